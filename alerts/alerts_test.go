package alerts

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
)

func TestLoadPolicy(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml string
		ok         bool
	}{
		{"full", "channel: north\nttl: 12h\ncategories:\n  foreign_terrorist_fighter: {action: discreet_check, ttl: 72h, note: travelling by road}\n  wanted: {action: arrest}\n", true},
		{"defaults", "categories:\n  wanted: {}\n", true},
		{"no categories", "ttl: 1h\n", false},
		{"unknown key", "categories:\n  wanted: {action: arrest, colour: red}\n", false},
		{"bad channel", "channel: ../x\ncategories:\n  wanted: {}\n", false},
		{"ttl too long", "categories:\n  wanted: {ttl: 2000h}\n", false},
		{"negative ttl", "ttl: -1h\ncategories:\n  wanted: {}\n", false},
		{"not yaml", "{", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".yaml")
			os.WriteFile(p, []byte(tc.yaml), 0o600)
			pol, err := LoadPolicy(p)
			if (err == nil) != tc.ok {
				t.Fatalf("LoadPolicy: %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), p) {
				t.Errorf("error does not name the file: %v", err)
			}
			if tc.name == "defaults" && (pol.Channel != "national" || pol.TTL != 24*time.Hour || pol.MaxTTL() != 24*time.Hour) {
				t.Fatalf("defaults %+v", pol)
			}
			if tc.name == "full" && pol.MaxTTL() != 72*time.Hour {
				t.Fatalf("max ttl %v", pol.MaxTTL())
			}
		})
	}
}

func TestFromConfirmedAndBook(t *testing.T) {
	p := &Policy{Channel: "national", TTL: 24 * time.Hour, Categories: map[string]Rule{
		"foreign_terrorist_fighter": {Action: "discreet_check", TTL: 72 * time.Hour, Note: "travelling by road"}}}
	seen := time.Date(2030, 5, 3, 14, 5, 0, 0, time.UTC)
	if _, ok := p.FromConfirmed(Hit{Post: "desk-a", TxID: "t1", Categories: []string{"stolen"}, Entries: []string{"document:D1"}, SeenAt: seen}); ok {
		t.Fatal("an unshared category was shared")
	}
	a, ok := p.FromConfirmed(Hit{Post: "desk-a", TxID: "t1", Categories: []string{"stolen", "foreign_terrorist_fighter"},
		Entries: []string{"person:P-17", "document:D1"}, SeenAt: seen, ConfirmedAt: seen.Add(time.Minute)})
	if !ok || a.ID != "desk-a:t1" || a.Action != "discreet_check" || !a.ExpiresAt.Equal(seen.Add(72*time.Hour)) {
		t.Fatalf("alert %+v %v", a, ok)
	}
	if s := a.Summary(); s != "shared alert: seen at post desk-a at 14:05 UTC on 3 May · discreet check · travelling by road" {
		t.Fatalf("summary %q", s)
	}
	now := seen.Add(time.Hour)
	b := NewBook(func() time.Time { return now })
	d, _ := json.Marshal(a)
	recs := []bundle.Record{{ID: a.ID, ExpiresAt: a.ExpiresAt, Data: d}}
	if err := b.Validate("national", recs); err != nil {
		t.Fatal(err)
	}
	b.Load(channel.State{Kind: Kind, Channel: "national"}, recs)
	if got := b.Lookup("person:P-17"); len(got) != 1 || got[0].Post != "desk-a" {
		t.Fatalf("lookup %+v", got)
	}
	if got := b.Lookup("document:D1"); len(got) != 1 {
		t.Fatal("second entry not indexed")
	}
	if got := b.Lookup("person:P-18"); len(got) != 0 {
		t.Fatal("other entry matched")
	}
	now = a.ExpiresAt
	if got := b.Lookup("person:P-17"); len(got) != 0 {
		t.Fatal("expired alert shown")
	}
	b.Load(channel.State{Kind: Kind, Channel: "national"}, nil)
	now = seen
	if got := b.Lookup("person:P-17"); len(got) != 0 {
		t.Fatal("alert kept after the channel was emptied")
	}
}

func TestBookRefuses(t *testing.T) {
	good := Alert{ID: "desk-a:t1", Entries: []string{"person:P1"}, Post: "desk-a", SeenAt: time.Unix(100, 0), ExpiresAt: time.Unix(200, 0)}
	for _, tc := range []struct {
		name string
		edit func(*Alert)
		raw  string
		id   string
	}{
		{name: "no entries", edit: func(a *Alert) { a.Entries = nil }},
		{name: "bad entry", edit: func(a *Alert) { a.Entries = []string{"P1"} }},
		{name: "no post", edit: func(a *Alert) { a.Post = "" }},
		{name: "expires before seen", edit: func(a *Alert) { a.ExpiresAt = a.SeenAt }},
		{name: "id mismatch", id: "other"},
		{name: "unknown field", raw: `{"id":"desk-a:t1","entries":["person:P1"],"post":"x","seen_at":"2030-01-01T00:00:00Z","expires_at":"2030-01-02T00:00:00Z","name":"SMITH"}`},
		{name: "not json", raw: `{`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := good
			if tc.edit != nil {
				tc.edit(&a)
			}
			d, _ := json.Marshal(a)
			if tc.raw != "" {
				d = []byte(tc.raw)
			}
			id := a.ID
			if tc.id != "" {
				id = tc.id
			}
			if err := NewBook(nil).Validate("national", []bundle.Record{{ID: id, Data: d}}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// FuzzAlertRecord: any record data is refused cleanly or accepted as a
// valid alert; never a panic.
func FuzzAlertRecord(f *testing.F) {
	good, _ := json.Marshal(Alert{ID: "a:1", Entries: []string{"person:P1"}, Post: "a", SeenAt: time.Unix(1, 0), ExpiresAt: time.Unix(2, 0)})
	f.Add("a:1", good)
	f.Add("x", []byte(`{"id":"x","entries":[":"],"post":"p"}`))
	f.Add("", []byte(`null`))
	f.Fuzz(func(t *testing.T, id string, data []byte) {
		b := NewBook(nil)
		recs := []bundle.Record{{ID: id, Data: data}}
		if err := b.Validate("c", recs); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		b.Load(channel.State{Channel: "c"}, recs)
		var a Alert
		json.Unmarshal(data, &a)
		if a.Validate() != nil {
			t.Fatal("accepted an invalid alert")
		}
		for _, e := range a.Entries {
			b.Lookup(e)
		}
	})
}
