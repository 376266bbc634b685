package prearrival

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOpenAPIPaxdataRouted keeps the /v1/paxdata operations of
// api/hub.openapi.yaml and this service's handler in step: each is routed
// (a request without a client certificate is refused, not 404/405).
func TestOpenAPIPaxdataRouted(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "api", "hub.openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	q := newHQ(t)
	h := q.open(t, "").Handler(nil)
	ops := 0
	for p, methods := range spec.Paths {
		if !strings.HasPrefix(p, "/v1/paxdata") {
			continue
		}
		for m := range methods {
			if m == "parameters" || m == "summary" || m == "description" {
				continue
			}
			ops++
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(strings.ToUpper(m), p, strings.NewReader("UNA:+.? '")))
			if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
				t.Errorf("%s %s documented but not routed: %d", strings.ToUpper(m), p, rec.Code)
			}
		}
	}
	if ops < 2 {
		t.Fatalf("%d /v1/paxdata operations documented, want POST /v1/paxdata and GET /v1/paxdata/flights", ops)
	}
}
