package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// goldenIdentity decrypts testdata/watchlist-v1.cpwl, a bundle written by
// the code before channel bundles existed (signed by the seed-7 key).
const goldenIdentity = "AGE-SECRET-KEY-10JZZQLYFGLHSCKAVN0XLJNC3JUKMJ3CXFM6EY0UM3MSDPMP0TRYSNK708W"

// TestOldWatchlistBundleUnchanged installs a bundle built before channel
// bundles existed, and checks that today's Build writes the same header
// bytes for the same input: watchlist bundles are byte-compatible.
func TestOldWatchlistBundleUnchanged(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	id, err := age.ParseX25519Identity(goldenIdentity)
	if err != nil {
		t.Fatal(err)
	}
	rk, _ := trust.GenerateKey()
	r, _ := trust.New([]ed25519.PublicKey{rk.Public().(ed25519.PublicKey)}, 1, t0.Add(-time.Hour))
	r.AddSigner("hq", key.Public().(ed25519.PublicKey), t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0))
	file, _ := trust.Sign(r, rk)
	root, _ := trust.Parse(file)
	opts := Options{Trust: root, Identities: []age.Identity{id}, Now: func() time.Time { return t0 }}

	store := openStore(t, t.TempDir())
	v, err := Install(context.Background(), "testdata/watchlist-v1.cpwl", store, opts)
	if err != nil {
		t.Fatalf("old bundle: %v", err)
	}
	want := stateOf(t, records(50, 1))
	if m := store.Meta(); m.Sequence != 7 || m.StateHash != want.Hash.String() || v.Header.Kind != "" || v.Header.KindName() != KindWatchlist {
		t.Fatalf("installed %+v from %+v", m, v.Header)
	}

	golden, _ := os.ReadFile("testdata/watchlist-v1.header.json")
	var buf bytes.Buffer
	s, err := Build(context.Background(), &buf, &watchlist.SliceSource{Changes: records(50, 1)}, BuildOptions{
		WatchlistID: "national", Sequence: 7, IssuedAt: t0.Add(-time.Minute), ExpiresAt: t0.Add(48 * time.Hour),
		Authority: "HQ", FaceModelID: "dlib-resnet-v1", Key: key, Recipients: []age.Recipient{id.Recipient()}, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Header, golden) {
		t.Fatalf("watchlist header changed:\n got %s\nwant %s", s.Header, golden)
	}
}

func TestChannelBundleRoundTrip(t *testing.T) {
	e := newEnv(t)
	recs := []Record{
		{ID: "BA123/2026-11-24", ExpiresAt: t0.Add(8 * time.Hour), Data: json.RawMessage("{\n \"flight\": \"BA123\",\n \"alerts\": [1, 2]\n}")},
		{ID: "LH456/2026-11-24", Data: json.RawMessage(`{"flight":"LH456","alerts":[]}`)},
	}
	o := ChannelBuildOptions{Kind: KindPrearrival, Channel: "LHR", Sequence: 3, IssuedAt: t0.Add(-time.Minute),
		ExpiresAt: t0.Add(10 * time.Hour), Authority: "HQ", Key: e.key, Recipients: []age.Recipient{e.id.Recipient()}}
	var buf bytes.Buffer
	signed, err := BuildChannel(&buf, recs, o)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "c.cpwl")
	os.WriteFile(p, buf.Bytes(), 0o600)
	v, got, err := ReadChannel(context.Background(), p, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if v.Header.Kind != KindPrearrival || v.Header.Channel != "LHR" || v.Header.Puts != 2 || !v.Encrypted || v.SignerName != "hq-2026" {
		t.Fatalf("header %+v", v.Header)
	}
	if len(got) != 2 || got[0].ID != recs[0].ID || string(got[0].Data) != `{"flight":"BA123","alerts":[1,2]}` ||
		!got[0].ExpiresAt.Equal(recs[0].ExpiresAt) || !got[1].ExpiresAt.IsZero() {
		t.Fatalf("records %+v", got)
	}
	h, err := signed.Verify(e.root, t0)
	if err != nil || h.Kind != KindPrearrival {
		t.Fatalf("detached header: %v", err)
	}
	if !strings.Contains(string(signed.Header), `"kind":"prearrival","channel":"LHR"`) {
		t.Fatalf("header %s", signed.Header)
	}
	// A channel bundle is never a watchlist, and the reverse.
	if _, err := Install(context.Background(), p, openStore(t, t.TempDir()), e.opts()); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("channel bundle into the watchlist: %v", err)
	}
	if _, err := Verify(context.Background(), p, nil, e.opts()); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("Verify of a channel bundle: %v", err)
	}
	wl := e.build(t, e.buildOpts(1, 0), records(10, 1))
	if _, _, err := ReadChannel(context.Background(), wl, e.opts()); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("watchlist bundle as a channel: %v", err)
	}
	if hv, err := ReadHeader(wl, e.opts()); err != nil || hv.Header.KindName() != KindWatchlist {
		t.Fatalf("ReadHeader: %v", err)
	}
}

func TestBuildChannelRefuses(t *testing.T) {
	e := newEnv(t)
	ok := ChannelBuildOptions{Kind: KindAlerts, Channel: "national", Sequence: 1, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), Key: e.key}
	rec := Record{ID: "a", Data: json.RawMessage(`{}`)}
	for _, tc := range []struct {
		name string
		edit func(o *ChannelBuildOptions) []Record
	}{
		{"watchlist kind", func(o *ChannelBuildOptions) []Record { o.Kind = KindWatchlist; return nil }},
		{"bad kind", func(o *ChannelBuildOptions) []Record { o.Kind = "Alerts!"; return nil }},
		{"bad channel", func(o *ChannelBuildOptions) []Record { o.Channel = "../x"; return nil }},
		{"sequence 0", func(o *ChannelBuildOptions) []Record { o.Sequence = 0; return nil }},
		{"expires before issued", func(o *ChannelBuildOptions) []Record { o.ExpiresAt = t0; return nil }},
		{"no key", func(o *ChannelBuildOptions) []Record { o.Key = nil; return nil }},
		{"duplicate id", func(o *ChannelBuildOptions) []Record { return []Record{rec, rec} }},
		{"null data", func(o *ChannelBuildOptions) []Record { return []Record{{ID: "a", Data: json.RawMessage("null")}} }},
		{"empty id", func(o *ChannelBuildOptions) []Record { return []Record{{Data: json.RawMessage("1")}} }},
		{"control in id", func(o *ChannelBuildOptions) []Record { return []Record{{ID: "a\nb", Data: json.RawMessage("1")}} }},
		{"bad json", func(o *ChannelBuildOptions) []Record { return []Record{{ID: "a", Data: json.RawMessage("{")}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			rs := tc.edit(&o)
			if _, err := BuildChannel(&bytes.Buffer{}, rs, o); err == nil {
				t.Fatal("built")
			}
		})
	}
	if _, err := BuildChannel(&bytes.Buffer{}, nil, ok); err != nil {
		t.Fatalf("an empty channel (withdraws every record) must build: %v", err)
	}
}

func TestPublishChannel(t *testing.T) {
	e := newEnv(t)
	pub := t.TempDir()
	seq, err := NextSequence(pub, KindPrearrival, "LHR", t0)
	if err != nil || seq != uint64(t0.Unix()) {
		t.Fatalf("first sequence %d, %v", seq, err)
	}
	var last *IndexEntry
	for i := range 4 {
		seq, _ := NextSequence(pub, KindPrearrival, "LHR", t0) // the clock stands still: +1 each time
		var buf bytes.Buffer
		o := ChannelBuildOptions{Kind: KindPrearrival, Channel: "LHR", Sequence: seq, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour),
			Key: e.key, Recipients: []age.Recipient{e.id.Recipient()}}
		s, err := BuildChannel(&buf, []Record{{ID: fmt.Sprint(i), Data: json.RawMessage(`{}`)}}, o)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "b")
		os.WriteFile(p, buf.Bytes(), 0o600)
		if last, err = Publish(pub, p, s, t0, 2); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(filepath.Join(pub, "prearrival", "LHR", IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ix, err := ReadIndex(f)
	if err != nil {
		t.Fatal(err)
	}
	if !ix.IsFor(KindPrearrival, "LHR") || ix.IsFor(KindWatchlist, "LHR") || ix.WatchlistID != "" || ix.Latest != uint64(t0.Unix())+3 ||
		len(ix.Bundles) != 2 || last.Sequence != ix.Latest {
		t.Fatalf("index %+v", ix)
	}
	files, _ := os.ReadDir(filepath.Join(pub, "prearrival", "LHR"))
	if len(files) != 3 { // index + 2 kept bundles
		t.Fatalf("%d files left after pruning", len(files))
	}
	plan, err := ix.Plan(ix.Latest - 2)
	if err != nil || len(plan) != 1 || plan[0].Sequence != ix.Latest {
		t.Fatalf("plan %+v %v", plan, err)
	}
	// A watchlist folder cannot take a channel's index, nor the reverse.
	os.MkdirAll(filepath.Join(pub, "national"), 0o755)
	b, _ := json.Marshal(ix)
	os.WriteFile(filepath.Join(pub, "national", IndexFile), b, 0o644)
	wl, s := e.buildSigned(t, e.buildOpts(1, 0), &watchlist.SliceSource{Changes: records(3, 1)})
	if _, err := Publish(pub, wl, s, t0, 0); !errors.Is(err, ErrFormat) {
		t.Fatalf("publishing into a folder with another index: %v", err)
	}
}

// FuzzReadChannel feeds arbitrary files to ReadChannel: no panic, and
// every failure is a refusal.
func FuzzReadChannel(f *testing.F) {
	key, root := fuzzEnv(f)
	for _, n := range []int{0, 1, 5} {
		rs := make([]Record, n)
		for i := range rs {
			rs[i] = Record{ID: fmt.Sprint("r", i), ExpiresAt: t0.Add(time.Hour), Data: json.RawMessage(`{"a":[1,"x"]}`)}
		}
		var buf bytes.Buffer
		if _, err := BuildChannel(&buf, rs, ChannelBuildOptions{Kind: KindAlerts, Channel: "c", Sequence: 1, IssuedAt: t0,
			ExpiresAt: t0.Add(time.Hour), Key: key}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
		f.Add(buf.Bytes()[:buf.Len()*2/3])
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "fuzz.cpwl")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		v, recs, err := ReadChannel(context.Background(), p, fuzzOpts(root))
		if err != nil {
			if !refused(err) {
				t.Fatalf("error without a refusal sentinel: %v", err)
			}
			return
		}
		if int64(len(recs)) != v.Header.Puts {
			t.Fatalf("%d records, header says %d", len(recs), v.Header.Puts)
		}
		for i := range recs {
			if err := recs[i].Validate(); err != nil {
				t.Fatalf("accepted an invalid record: %v", err)
			}
		}
	})
}
