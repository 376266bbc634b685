package demo

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// TestWritePrearrival: the demo's passenger lists read back as two
// flights still to come, the first carrying the demo's travellers with the
// data of the passports they will present, the second none of them.
func TestWritePrearrival(t *testing.T) {
	dir := t.TempDir()
	p := PathsOf(dir)
	f := &File{Hold: 6 * time.Second, FPS: 10, Entries: []Entry{
		{Index: 1, Role: RoleClear, Lines: td1},
		{Index: 2, Role: RoleStolen, Kinds: []string{"document"}, Lines: td3},
	}}
	var b strings.Builder
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(p.Travellers, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 10, 17, 30, 0, time.UTC)
	if err := writePrearrival(p, 3, now); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(p.PaxInbox)
	if err != nil || len(ents) != len(demoFlights) {
		t.Fatalf("inbox: %v %v", ents, err)
	}
	for i, fl := range demoFlights {
		data, err := os.ReadFile(filepath.Join(p.PaxInbox, "paxlst-"+fl.carrier+fl.number+".edi"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := paxdata.Parse(data, paxdata.ParseOptions{})
		if err != nil || len(res.Manifests) != 1 || len(res.Errors) != 0 {
			t.Fatalf("flight %d: %v %q", i, err, res.ErrorStrings())
		}
		m := res.Manifests[0]
		if m.Flight.Number != fl.carrier+fl.number || !m.Flight.ArrivalAt.Equal(now.Truncate(time.Minute).Add(fl.lands)) || !m.Flight.ArrivalAt.After(now) {
			t.Errorf("flight %d: %+v", i, m.Flight)
		}
		var docs []string
		for _, tr := range m.Travellers {
			docs = append(docs, tr.IssuingState+" "+tr.DocumentNumber)
		}
		cast := slices.Contains(docs, "UTO L898902C3") && slices.Contains(docs, "UTO D23145890")
		if cast != fl.withCast {
			t.Errorf("flight %d: the demo's travellers on board %v, want %v", i, cast, fl.withCast)
		}
		want := fl.fillers
		if fl.withCast {
			want += len(f.Entries)
			for _, tr := range m.Travellers {
				if tr.DocumentNumber == "L898902C3" && (tr.Surname != "ERIKSSON" || tr.GivenNames != "ANNA MARIA" || tr.BirthDate != "1974-08-12" || tr.Sex != "F" || tr.Nationality != "UTO") {
					t.Errorf("the stolen-passport traveller as listed: %+v", tr)
				}
			}
		}
		if len(m.Travellers) != want || m.Declared != want {
			t.Errorf("flight %d: %d travellers (declared %d), want %d", i, len(m.Travellers), m.Declared, want)
		}
	}
}

// checkPrearrival screens the prepared passenger lists against the
// published watchlist, as the demo's daemon does: on the first flight
// exactly the travellers listed by name or document are flagged (a
// face-only listing needs the camera), on the second nobody.
func checkPrearrival(t *testing.T, p Paths, now time.Time) {
	t.Helper()
	root, err := trust.Load(p.Trust)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := bundle.LoadIdentities("file:" + p.Identity)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	store, err := watchlist.Open(filepath.Join(dir, "w.db"), seal.FileKey{Path: p.WatchlistKEK}, watchlist.Options{NoSync: true, SpillDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	idx, err := bundle.ReadIndex(mustOpen(filepath.Join(p.HubBundles, WatchlistID, bundle.IndexFile)))
	if err != nil {
		t.Fatal(err)
	}
	var file string
	for _, e := range idx.Bundles {
		if e.Sequence == idx.Latest {
			file = filepath.Join(p.HubBundles, WatchlistID, e.File)
		}
	}
	if _, err := bundle.Install(context.Background(), file, store, bundle.Options{Trust: root, Identities: ids, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p.Travellers)
	if err != nil {
		t.Fatal(err)
	}
	cast, err := ReadFile(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, e := range cast.Entries {
		if slices.Contains(e.Kinds, "person") || slices.Contains(e.Kinds, "document") {
			want[mrz.Parse(e.Lines, mrz.Options{}).DocumentNumber] = true
		}
	}
	if len(want) == 0 {
		t.Fatal("no listed traveller in the demo")
	}
	sc := &paxdata.Screener{Watchlist: store, ScreenedBy: UnitID}
	for i, fl := range demoFlights {
		data, err := os.ReadFile(filepath.Join(p.PaxInbox, "paxlst-"+fl.carrier+fl.number+".edi"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := paxdata.Parse(data, paxdata.ParseOptions{})
		if err != nil || len(res.Manifests) != 1 {
			t.Fatalf("flight %d: %v", i, err)
		}
		r, err := sc.Screen(context.Background(), res.Manifests[0])
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, x := range r.Flagged {
			got[x.Traveller.DocumentNumber] = true
		}
		if fl.withCast && !maps.Equal(got, want) || !fl.withCast && len(got) != 0 {
			t.Errorf("flight %s: flagged %d travellers %v, want %v", r.Flight.Number, len(got), got, map[bool]map[string]bool{true: want}[fl.withCast])
		}
	}
}
