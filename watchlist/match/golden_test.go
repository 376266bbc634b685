package match

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestExplanationsGolden pins the full explanation of every hard case, so
// that a change in wording or scoring shows up in review as a diff of
// testdata/explanations.golden (regenerate with go test -update).
func TestExplanationsGolden(t *testing.T) {
	var b strings.Builder
	for _, tc := range scoreCases {
		s := ScorePerson(tc.q, tc.r, DefaultConfig())
		b.WriteString(tc.name + "\n\t" + s.Explanation + "\n")
	}
	path := filepath.Join("testdata", "explanations.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("explanations differ from %s (go test -update to accept):\n%s", path, got)
	}
}
