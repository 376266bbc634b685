package bundle

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// TestRecordFormat: a bundle whose records use format 2 says so, a unit
// installs it, and a header announcing a format this build does not read
// is refused.
func TestRecordFormat(t *testing.T) {
	e := newEnv(t)
	p := &watchlist.PersonAlert{ID: "UN-X", Name: watchlist.Name{Surname: "BOZIZE", GivenNames: "FRANCOIS"},
		Births: []watchlist.BirthDate{{Date: "1946-10-14"}, {From: 1950, To: 1953}}, Category: "sanctions", Action: "refer", Source: "UN",
		Documents: []watchlist.IdentityDocument{{Type: "P", Number: "D00002264", IssuingState: "SSD"}}}
	watchlist.FillMRZ(p)
	cs := records(5, 1)
	plain := e.build(t, e.buildOpts(1, 0), cs)
	v, err := Verify(context.Background(), plain, nil, e.opts())
	if err != nil || v.Header.RecordFormat != 0 {
		t.Fatalf("format-1 bundle: %+v %v", v, err)
	}
	cs = append(cs, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: p.ID, Person: p})
	for _, d := range watchlist.DocumentAlertsOf(p) {
		cs = append(cs, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: d.ID, Document: &d})
	}
	path := e.build(t, e.buildOpts(2, 0), cs)
	s := openStore(t, t.TempDir())
	v, err = Install(context.Background(), path, s, e.opts())
	if err != nil || v.Header.RecordFormat != watchlist.RecordFormat {
		t.Fatalf("format-2 bundle: %+v %v", v, err)
	}
	hits, err := s.LookupDocument("SSD", "D00002264", "P")
	if err != nil || len(hits) != 1 || hits[0].Alert.PersonID != "UN-X" {
		t.Fatalf("linked document after install: %+v %v", hits, err)
	}

	var h Header
	if err := json.Unmarshal([]byte(`{"format":1,"watchlist_id":"national","sequence":3,"issued_at":"2026-11-24T12:00:00Z","expires_at":"2026-11-26T12:00:00Z","key_id":"x","state_hash":"`+
		zeroHash+`","payload_sha256":"`+zeroHash+`","record_format":3}`), &h); err != nil {
		t.Fatal(err)
	}
	if err := h.validate(); !errors.Is(err, ErrFormat) {
		t.Fatalf("record format 3: %v", err)
	}
	h.RecordFormat = 2
	if err := h.validate(); err != nil {
		t.Fatalf("record format 2: %v", err)
	}
}

const zeroHash = "0000000000000000000000000000000000000000000000000000000000000000"
