package api_test

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/checkpoint-edge/checkpoint/hub/prearrival"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxstore"
)

// TestPaxdataSchemas: the hub's passenger-data answers as documented in
// hub.openapi.yaml have exactly the fields the hub's Go types send, and
// the documented required fields are the ones always sent (no omitempty).
func TestPaxdataSchemas(t *testing.T) {
	b, err := os.ReadFile("hub.openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			Schemas map[string]struct {
				Required   []string       `yaml:"required"`
				Properties map[string]any `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/v1/paxdata", "/v1/paxdata/flights"} {
		if spec.Paths[p] == nil {
			t.Errorf("%s is not documented", p)
		}
	}
	for name, typ := range map[string]reflect.Type{
		"PaxdataReceipt":        reflect.TypeFor[prearrival.Receipt](),
		"PaxdataMessageReceipt": reflect.TypeFor[prearrival.MessageReceipt](),
		"PaxdataFlight":         reflect.TypeFor[paxstore.Meta](),
	} {
		sc, ok := spec.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s missing", name)
			continue
		}
		var fields, always []string
		for f := range typ.Fields() {
			tag := f.Tag.Get("json")
			n, opts, _ := strings.Cut(tag, ",")
			if n == "-" || !f.IsExported() {
				continue
			}
			fields = append(fields, n)
			if !strings.Contains(opts, "omit") {
				always = append(always, n)
			}
		}
		var documented []string
		for k := range sc.Properties {
			documented = append(documented, k)
		}
		slices.Sort(fields)
		slices.Sort(documented)
		slices.Sort(always)
		req := slices.Sorted(slices.Values(sc.Required))
		if !slices.Equal(fields, documented) {
			t.Errorf("%s: the hub sends %v, the spec documents %v", name, fields, documented)
		}
		if !slices.Equal(always, req) {
			t.Errorf("%s: the hub always sends %v, the spec requires %v", name, always, req)
		}
	}
}
