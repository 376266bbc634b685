package hub_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/alerts"
	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
)

// hq is headquarters' alert signing key in a unit's root of trust, and the
// unit's age identity.
type hq struct {
	key  ed25519.PrivateKey
	root *trust.Root
	id   *age.X25519Identity
}

func newHQ(t *testing.T) hq {
	rk, _ := trust.GenerateKey()
	r, err := trust.New([]ed25519.PublicKey{rk.Public().(ed25519.PublicKey)}, 1, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := trust.GenerateKey()
	if err := r.AddSigner("hq-alerts", key.Public().(ed25519.PublicKey), time.Now().AddDate(0, -1, 0), time.Now().AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	file, _ := trust.Sign(r, rk)
	root, err := trust.Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	return hq{key: key, root: root, id: id}
}

// published reads the channel's latest bundle as a unit would.
func (q hq) published(t *testing.T, dir, ch string) (uint64, []alerts.Alert) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, alerts.Kind, ch, bundle.IndexFile))
	if err != nil {
		return 0, nil
	}
	ix, err := bundle.ReadIndex(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var latest bundle.IndexEntry
	for _, e := range ix.Bundles {
		if e.Sequence == ix.Latest {
			latest = e
		}
	}
	v, recs, err := bundle.ReadChannel(context.Background(), filepath.Join(dir, alerts.Kind, ch, latest.File),
		bundle.Options{Trust: q.root, Identities: []age.Identity{q.id}})
	if err != nil {
		t.Fatal(err)
	}
	b := alerts.NewBook(nil)
	if err := b.Validate(ch, recs); err != nil {
		t.Fatalf("a unit would refuse the bundle: %v", err)
	}
	var out []alerts.Alert
	for _, r := range recs {
		var a alerts.Alert
		json.Unmarshal(r.Data, &a)
		out = append(out, a)
	}
	return v.Header.Sequence, out
}

// TestAlertPublisher: an officer-confirmed hit in a shared category
// becomes a signed, encrypted alert bundle on the alerts channel; other
// categories, unconfirmed hits, hits whose result has not arrived and
// expired ones do not; a later false_positive withdraws the alert; an
// unchanged set is not republished.
func TestAlertPublisher(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.open(t)
		q := newHQ(t)
		dir := t.TempDir()
		now := time.Now().UTC()
		clock := now
		pub, err := hub.NewAlertPublisher(hub.AlertOptions{
			Policy: &alerts.Policy{Channel: "national", TTL: 24 * time.Hour, Categories: map[string]alerts.Rule{
				"foreign_terrorist_fighter": {Action: "discreet_check", TTL: 72 * time.Hour},
				"wanted":                    {Action: "arrest"},
			}},
			Dir: dir, Key: q.key, Recipients: []age.Recipient{q.id.Recipient()}, Now: func() time.Time { return clock },
		})
		if err != nil {
			t.Fatal(err)
		}
		if live, err := pub.Reconcile(ctx, st); err != nil || len(live) != 0 {
			t.Fatalf("empty database: %v %v", live, err)
		}
		if _, err := os.Stat(filepath.Join(dir, alerts.Kind)); err == nil {
			t.Fatal("published something with nothing to share")
		}
		seen := now.Add(-2 * time.Hour)
		if _, err := st.Ingest(ctx, upload("desk-a",
			laneResult("desk-a", 1, "HIT", seen, "foreign_terrorist_fighter@person:P-17"),
			officerDecision("desk-a", 2, "tx-desk-a-1", "confirmed", seen.Add(time.Minute)),
			// Not a shared category.
			laneResult("desk-a", 3, "HIT", seen, "stolen@document:D-9"),
			officerDecision("desk-a", 4, "tx-desk-a-3", "confirmed", seen.Add(time.Minute)),
			// Shared category, but the officer said false positive.
			laneResult("desk-a", 5, "HIT", seen, "wanted@person:P-20"),
			officerDecision("desk-a", 6, "tx-desk-a-5", "false_positive", seen.Add(time.Minute)),
			// Shared, confirmed, but seen 30 h ago: past wanted's 24 h.
			laneResult("desk-a", 7, "HIT", now.Add(-30*time.Hour), "wanted@person:P-21"),
			officerDecision("desk-a", 8, "tx-desk-a-7", "confirmed", now.Add(-29*time.Hour)),
			// Confirmed, but its result is not at headquarters yet.
			officerDecision("desk-a", 9, "tx-desk-a-404", "confirmed", seen),
		)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Ingest(ctx, upload("gate-b",
			laneResult("gate-b", 1, "HIT", seen.Add(time.Hour), "wanted@person:P-30"),
			officerDecision("gate-b", 2, "tx-gate-b-1", "confirmed", seen.Add(61*time.Minute)),
		)); err != nil {
			t.Fatal(err)
		}
		live, err := pub.Reconcile(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		seq1, got := q.published(t, dir, "national")
		ids := func(as []alerts.Alert) []string {
			var out []string
			for _, a := range as {
				out = append(out, a.ID)
			}
			return out
		}
		if want := []string{"desk-a:tx-desk-a-1", "gate-b:tx-gate-b-1"}; !slices.Equal(ids(live), want) || !slices.Equal(ids(got), want) {
			t.Fatalf("alerts %v, published %v, want %v", ids(live), ids(got), want)
		}
		a := got[0]
		if a.Post != "desk-a" || a.Category != "foreign_terrorist_fighter" || a.Action != "discreet_check" ||
			!slices.Equal(a.Entries, []string{"person:P-17"}) || !a.SeenAt.Equal(seen) ||
			!a.ExpiresAt.Equal(a.SeenAt.Add(72*time.Hour)) {
			t.Fatalf("alert %+v", a)
		}
		// Nothing changed: no new bundle.
		if _, err := pub.Reconcile(ctx, st); err != nil {
			t.Fatal(err)
		}
		if seq, _ := q.published(t, dir, "national"); seq != seq1 {
			t.Fatalf("republished an unchanged set: %d after %d", seq, seq1)
		}
		// gate-b's officer revises the verdict: the alert is withdrawn.
		if _, err := st.Ingest(ctx, upload("gate-b", officerDecision("gate-b", 3, "tx-gate-b-1", "false_positive", seen.Add(90*time.Minute)))); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Second)
		if _, err := pub.Reconcile(ctx, st); err != nil {
			t.Fatal(err)
		}
		seq2, got := q.published(t, dir, "national")
		if seq2 <= seq1 || !slices.Equal(ids(got), []string{"desk-a:tx-desk-a-1"}) {
			t.Fatalf("after the revision: sequence %d (was %d), alerts %v", seq2, seq1, ids(got))
		}
		// 73 h later everything has expired: an empty bundle withdraws all.
		clock = now.Add(73 * time.Hour)
		if _, err := pub.Reconcile(ctx, st); err != nil {
			t.Fatal(err)
		}
		if seq3, got := q.published(t, dir, "national"); seq3 <= seq2 || len(got) != 0 {
			t.Fatalf("after expiry: sequence %d, %d alerts", seq3, len(got))
		}
	})
}

// TestLead: one replica at a time leads; another takes over when it lets
// go.
func TestLead(t *testing.T) {
	b := pgBackend(t)
	ctx := context.Background()
	a, c := b.open(t), b.open(t)
	lostA, releaseA, ok, err := a.Lead(ctx, "alerts")
	if err != nil || !ok {
		t.Fatalf("first replica: %v %v", ok, err)
	}
	if _, _, ok, err := c.Lead(ctx, "alerts"); err != nil || ok {
		t.Fatalf("second replica led too: %v %v", ok, err)
	}
	if _, release, ok, _ := c.Lead(ctx, "other-job"); !ok {
		t.Fatal("another job's leadership refused")
	} else {
		release()
	}
	releaseA()
	select {
	case <-lostA:
	case <-time.After(10 * time.Second):
		t.Fatal("released leadership not reported lost")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, release, ok, err := c.Lead(ctx, "alerts")
		if err == nil && ok {
			release()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second replica never took over")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
