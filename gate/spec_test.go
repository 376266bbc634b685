package gate_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/checkpoint-edge/checkpoint/gate"
	"github.com/checkpoint-edge/checkpoint/gate/gatetest"
	"github.com/checkpoint-edge/checkpoint/lane"
)

const specPath = "../api/gate.openapi.yaml"

var (
	stolen = gatetest.Stolen
	token  = gatetest.Token
)

type exchange struct {
	name        string
	method      string
	path        string
	contentType string
	body        string
	auth        string // Authorization header
	failing     bool   // the backend cannot run transactions
	want        int
}

// TestSpecConformance walks every path, method and status that
// api/gate.openapi.yaml declares, provokes each one against the real
// handler over TCP, and checks the answer against the spec: status
// declared, content type and body schema. A status the spec declares that
// no exchange produces fails the test, so the spec and the code cannot
// drift apart.
func TestSpecConformance(t *testing.T) {
	ctx := context.Background()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("spec does not validate: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}

	srv, be := gatetest.NewServer(t)

	// A decided transaction to look up.
	first := push(t, srv.URL, "Bearer "+token)
	if first.Decision != lane.Hit || len(first.Actions) != 1 || first.Actions[0] != "refer" {
		t.Fatalf("stolen passport: %+v", first)
	}

	bearer := "Bearer " + token
	docBody := `{"mrz":["` + stolen[0] + `","` + stolen[1] + `"]}`
	huge := `{"mrz":["` + strings.Repeat("A", 20<<20) + `"]}`
	cases := []exchange{
		{name: "status", method: "GET", path: "/v1/status", auth: bearer, want: 200},
		{name: "status without token", method: "GET", path: "/v1/status", want: 401},
		{name: "status wrong method", method: "POST", path: "/v1/status", auth: bearer, contentType: "application/json", body: "{}", want: 405},
		{name: "push", method: "POST", path: "/v1/documents", auth: bearer, contentType: "application/json", body: docBody, want: 200},
		{name: "push with charset", method: "POST", path: "/v1/documents", auth: bearer, contentType: "application/json; charset=utf-8", body: docBody, want: 200},
		{name: "push one line", method: "POST", path: "/v1/documents", auth: bearer, contentType: "application/json", body: `{"mrz":["only one"]}`, want: 400},
		{name: "push unknown field", method: "POST", path: "/v1/documents", auth: bearer, contentType: "application/json", body: `{"mrz":["a","b"],"x":1}`, want: 400},
		{name: "push trailing data", method: "POST", path: "/v1/documents", auth: bearer, contentType: "application/json", body: docBody + `{}`, want: 400},
		{name: "push not json", method: "POST", path: "/v1/documents", auth: bearer, contentType: "application/json", body: `mrz=1`, want: 400},
		{name: "push without token", method: "POST", path: "/v1/documents", contentType: "application/json", body: docBody, want: 401},
		{name: "push 20 MB", method: "POST", path: "/v1/documents", auth: bearer, contentType: "application/json", body: huge, want: 413},
		{name: "push text/plain", method: "POST", path: "/v1/documents", auth: bearer, contentType: "text/plain", body: docBody, want: 415},
		{name: "push no content type", method: "POST", path: "/v1/documents", auth: bearer, body: docBody, want: 415},
		{name: "push wrong method", method: "GET", path: "/v1/documents", auth: bearer, want: 405},
		{name: "push while stopping", method: "POST", path: "/v1/documents", auth: bearer, contentType: "application/json", body: docBody, failing: true, want: 503},
		{name: "transaction", method: "GET", path: "/v1/transactions/" + first.TxID, auth: bearer, want: 200},
		{name: "transaction unknown", method: "GET", path: "/v1/transactions/nope", auth: bearer, want: 404},
		{name: "transaction without token", method: "GET", path: "/v1/transactions/" + first.TxID, want: 401},
		{name: "events without token", method: "GET", path: "/v1/events", want: 401},
	}

	covered := map[string]bool{} // "METHOD path status"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			be.Failing.Store(tc.failing)
			defer be.Failing.Store(false)
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q, want application/json: %s", ct, body)
			}
			key := checkAgainstSpec(t, router, req, resp, body)
			covered[key] = true
		})
	}

	// Events: an NDJSON stream of Messages, checked line by line.
	t.Run("events", func(t *testing.T) {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/events", nil)
		req.Header.Set("Authorization", bearer)
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		go push(t, srv.URL, bearer)
		schema := doc.Paths.Find("/v1/events").Get.Responses.Status(200).Value.Content["application/x-ndjson"].Schema.Value
		sc := bufio.NewScanner(resp.Body)
		var types []string
		for len(types) < 2 && sc.Scan() {
			var v any
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatalf("event line is not JSON: %s", sc.Bytes())
			}
			if err := schema.VisitJSON(v); err != nil {
				t.Fatalf("event does not match the Message schema: %v\n%s", err, sc.Bytes())
			}
			var m gate.Message
			json.Unmarshal(sc.Bytes(), &m)
			types = append(types, m.Type)
		}
		if len(types) != 2 || types[0] != lane.EventStarted || types[1] != lane.EventDecision {
			t.Fatalf("events %v, want started then decision", types)
		}
		covered["GET /v1/events 200"] = true
	})

	// Every declared status was produced above.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				key := fmt.Sprintf("%s %s %s", method, path, status)
				if !covered[key] {
					t.Errorf("spec declares %s but no exchange produced it", key)
				}
			}
		}
	}

	// Unknown paths are JSON errors too (not in the spec: no route).
	for _, p := range []string{"/", "/v2/status", "/v1/status/extra"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Header.Set("Authorization", bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error string }
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 404 || err != nil || e.Error == "" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: %d %q %v", p, resp.StatusCode, resp.Header.Get("Content-Type"), err)
		}
	}
}

// checkAgainstSpec finds the operation for req, checks the status is one
// it declares and validates the response against it. It returns the
// coverage key "METHOD /spec/path status".
func checkAgainstSpec(t *testing.T, router routers.Router, req *http.Request, resp *http.Response, body []byte) string {
	t.Helper()
	// Route with a body-less copy: the router only needs method and path.
	probe, _ := http.NewRequest(req.Method, req.URL.String(), nil)
	route, params, err := router.FindRoute(probe)
	if errors.Is(err, routers.ErrMethodNotAllowed) || (err != nil && resp.StatusCode == 405) {
		// 405 is declared on the path's other operation: find it.
		for _, m := range strings.Split(resp.Header.Get("Allow"), ", ") {
			probe.Method = m
			if route, params, err = router.FindRoute(probe); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("no route for %s %s (Allow %q): %v", req.Method, req.URL.Path, resp.Header.Get("Allow"), err)
		}
		if resp.Header.Get("Allow") == "" {
			t.Fatal("405 without an Allow header")
		}
	} else if err != nil {
		t.Fatalf("no route for %s %s: %v", req.Method, req.URL.Path, err)
	}
	status := fmt.Sprint(resp.StatusCode)
	if route.Operation.Responses.Value(status) == nil {
		t.Fatalf("%s %s answered %s, which the spec does not declare", route.Method, route.Path, status)
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Fatalf("response does not match the spec: %v\n%s", err, body)
	}
	return fmt.Sprintf("%s %s %s", route.Method, route.Path, status)
}

func push(t *testing.T, base, auth string) gate.Message {
	body, _ := json.Marshal(map[string][]string{"mrz": stolen})
	req, _ := http.NewRequest("POST", base+"/v1/documents", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return gate.Message{}
	}
	defer resp.Body.Close()
	var m gate.Message
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Errorf("push: %d %v", resp.StatusCode, err)
	}
	return m
}

// TestMessageTimeIsTheDecisionTime: `at` is when the decision was made,
// not when the message was written.
func TestMessageTimeIsTheDecisionTime(t *testing.T) {
	decided := time.Date(2026, 3, 1, 14, 5, 0, 0, time.UTC)
	tx := &lane.Transaction{ID: "t1", State: "decided", StartedAt: decided.Add(-time.Second), DecidedAt: decided, Decision: lane.Clear}
	m := gate.FromTransaction(lane.EventDecision, tx)
	if !m.At.Equal(decided) {
		t.Fatalf("at %v, want %v", m.At, decided)
	}
	b, _ := json.Marshal(m)
	if !bytes.Contains(b, []byte(`"reasons":[]`)) || !bytes.Contains(b, []byte(`"actions":[]`)) {
		t.Fatalf("empty lists must be []: %s", b)
	}
	started := gate.FromTransaction(lane.EventStarted, &lane.Transaction{ID: "t2", State: "started", StartedAt: decided})
	if !started.At.Equal(decided) {
		t.Fatalf("started at %v", started.At)
	}
}
