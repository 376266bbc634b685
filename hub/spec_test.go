package hub_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
)

// TestOpenAPIMatchesHandler keeps api/hub.openapi.yaml and the handler in
// step: every documented operation is routed (not 404/405 from the mux).
func TestOpenAPIMatchesHandler(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "api", "hub.openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("spec does not parse: %v", err)
	}
	if !strings.HasPrefix(spec.OpenAPI, "3.") || len(spec.Paths) < 5 {
		t.Fatalf("spec: openapi %q, %d paths", spec.OpenAPI, len(spec.Paths))
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), []byte("x"), 0o644)
	srv := hubtest.Start(t, hubtest.Options{BundleDir: dir, Import: true})
	c := client(srv.Fleet.OperatorTLS(t, "ops"))
	ops := 0
	for p, methods := range spec.Paths {
		if strings.HasPrefix(p, "/v1/paxdata") {
			// Served by hub/prearrival beside the hub's own routes
			// (checkpoint-hub mounts both); its own test checks them.
			continue
		}
		url := srv.URL + strings.NewReplacer("{path}", "x", "{unit}", "ghost").Replace(p)
		for m := range methods {
			ops++
			if strings.HasSuffix(p, "/stream") {
				// A stream never ends: its status and headers say enough.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				req, _ := http.NewRequestWithContext(ctx, strings.ToUpper(m), url, nil)
				resp, err := c.Do(req)
				if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
					t.Errorf("%s %s: %v %v", strings.ToUpper(m), p, resp, err)
				}
				cancel()
				continue
			}
			resp, body := do(t, c, strings.ToUpper(m), url, []byte("{}"))
			if resp.StatusCode == http.StatusMethodNotAllowed || (resp.StatusCode == http.StatusNotFound && !strings.Contains(string(body), "unknown unit")) {
				t.Errorf("%s %s documented but not routed: %s", strings.ToUpper(m), p, resp.Status)
			}
		}
	}
	if ops < 10 {
		t.Fatalf("only %d operations documented", ops)
	}
}
