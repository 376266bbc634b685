package unit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/alerts"
	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/internal/unit/unittest"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
)

// TestSharedAlert: an officer at another post confirms a hit on a person
// this unit's watchlist lists; headquarters' alert publisher shares it on
// the alerts channel; this unit pulls it, and its lane shows "shared
// alert: seen at post desk-a …" on its own hit of that person. A later
// false positive withdraws it.
func TestSharedAlert(t *testing.T) {
	f := unittest.New(t, unittest.Options{Hub: true, Channels: []config.ChannelPull{
		{Kind: alerts.Kind, Channel: "national", PollInterval: config.Duration(200 * time.Millisecond)}}})
	u := running(t, f)
	tx := decided(t, u, f, f.Listed)
	if tx.Decision != lane.Hit || len(tx.Hits) == 0 || tx.Hits[0].SharedAlert != "" {
		t.Fatalf("before sharing: %s %+v", tx.Decision, tx.Hits)
	}
	hit := tx.Hits[0]

	// desk-a confirmed a hit on the same person two hours ago.
	seen := time.Now().UTC().Add(-2 * time.Hour)
	post := func(recs ...outbox.Record) {
		t.Helper()
		body, _ := json.Marshal(outbox.Batch{Items: recs})
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: f.Hub.Fleet.ClientTLS(t, "desk-a")}}
		resp, err := c.Post(f.Hub.URL+"/v1/results", "application/json", bytes.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("desk-a upload: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	post(outbox.Record{Key: "desk-a:" + strings.Repeat("1", 32), Seq: 1, Kind: "result", Priority: outbox.Hit, CreatedAt: seen,
		Payload: json.RawMessage(fmt.Sprintf(`{"tx_id":"tx-a","decision":"HIT","hits":[{"kind":%q,"ref_id":%q,"category":%q}]}`, hit.Kind, hit.RefID, hit.Category))},
		outbox.Record{Key: "desk-a:" + strings.Repeat("2", 32), Seq: 2, Kind: "officer_decision", Priority: outbox.Hit, CreatedAt: seen.Add(time.Minute),
			Payload: json.RawMessage(`{"tx_id":"tx-a","verdict":"confirmed","officer":"9"}`)})

	// Headquarters shares the category, signed with the fleet's authority
	// key and encrypted to the unit.
	keys := filepath.Join(f.Dir, "keys")
	signer, err := trust.ReadPrivateKey(filepath.Join(keys, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(keys, "unit.age"))
	id, err := age.ParseX25519Identity(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := hub.NewAlertPublisher(hub.AlertOptions{
		Policy: &alerts.Policy{Channel: "national", TTL: 24 * time.Hour, Categories: map[string]alerts.Rule{hit.Category: {Action: "discreet_check"}}},
		Dir:    f.HubBundles, Key: signer, Recipients: []age.Recipient{id.Recipient()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if live, err := pub.Reconcile(context.Background(), f.Hub.Hub().Store()); err != nil || len(live) != 1 {
		t.Fatalf("reconcile: %v %v", live, err)
	}
	waitFor(t, "alerts channel installed", func() bool {
		st, _ := u.ChannelStates()
		return len(st) == 1 && st[0].Kind == alerts.Kind && st[0].Records == 1
	})
	// The store's state shows the install a moment before the consumer
	// has loaded it: scan until the lane shows it (bounded).
	want := "shared alert: seen at post desk-a at " + seen.Format("15:04 MST on 2 Jan") + " · discreet check"
	shown := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			tx := decided(t, u, f, f.Listed)
			if len(tx.Hits) > 0 && tx.Hits[0].SharedAlert == want {
				if want == "" {
					return
				}
				// The officer's page words the same sighting from fields.
				if sg := tx.Hits[0].Sightings; len(sg) != 1 || sg[0].Post != "desk-a" || !sg[0].SeenAt.Equal(seen) || sg[0].Action != "discreet_check" {
					t.Fatalf("sightings %+v", sg)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("shared alert on the hit: %+v, want %q", tx.Hits, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	shown(want)

	// desk-a's officer revises: false positive. The alert is withdrawn.
	post(outbox.Record{Key: "desk-a:" + strings.Repeat("3", 32), Seq: 3, Kind: "officer_decision", Priority: outbox.Hit, CreatedAt: seen.Add(2 * time.Minute),
		Payload: json.RawMessage(`{"tx_id":"tx-a","verdict":"false_positive","officer":"9"}`)})
	if live, err := pub.Reconcile(context.Background(), f.Hub.Hub().Store()); err != nil || len(live) != 0 {
		t.Fatalf("reconcile after the revision: %v %v", live, err)
	}
	waitFor(t, "empty alerts bundle installed", func() bool {
		st, _ := u.ChannelStates()
		return len(st) == 1 && st[0].Records == 0
	})
	shown("")
}
