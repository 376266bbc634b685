package bundle

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// TestInstallsFormat1Bundle: a bundle built by the code before record
// format 2 (testdata/format1, made by the tree of main before this change)
// verifies and installs with this code.
func TestInstallsFormat1Bundle(t *testing.T) {
	dir := filepath.Join("testdata", "format1")
	tb, err := os.ReadFile(filepath.Join(dir, "trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := trust.Parse(tb)
	if err != nil {
		t.Fatal(err)
	}
	// git keeps no 0600 mode: a fresh clone has the identity 0644, which
	// LoadIdentities rightly refuses. Use a private copy.
	idb, err := os.ReadFile(filepath.Join(dir, "unit.age"))
	if err != nil {
		t.Fatal(err)
	}
	idPath := filepath.Join(t.TempDir(), "unit.age")
	if err := os.WriteFile(idPath, idb, 0o600); err != nil {
		t.Fatal(err)
	}
	ids, err := LoadIdentities(idPath)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Trust: root, Identities: ids, Now: func() time.Time { return time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC) }}
	s := openStore(t, t.TempDir())
	v, err := Install(context.Background(), filepath.Join(dir, "national-5.cpwl"), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if v.Header.RecordFormat != 0 || v.Header.Persons != 2 || s.Meta().Sequence != 5 {
		t.Fatalf("header %+v", v.Header)
	}
	hits, err := s.ScreenPerson(context.Background(), watchlist.PersonQuery{Name: "IVANOV<<SERGEY", BirthDate: "1975-04-12"})
	if err != nil || len(hits) == 0 || hits[0].RefID != "RED-1" {
		t.Fatalf("hits %+v %v", hits, err)
	}
}
