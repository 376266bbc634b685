package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/hub/prearrival"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxdatatest"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// TestServePaxdata runs the hub with pre-arrival screening: an airline
// gateway posts a PAXLST, the hub screens it against the published
// watchlist and publishes the port's prearrival channel.
func TestServePaxdata(t *testing.T) {
	fl := hubtest.NewFleet(t)
	d := t.TempDir()
	p := func(n string) string { return filepath.Join(d, n) }
	iss, _ := fl.CA.IssueServer(nil, 0)
	iss.WriteFiles(p("hub.pem"), p("hub.key"))
	seal.GenerateKeyFile(p("hub.kek"))
	hqID, _ := age.GenerateX25519Identity()
	fleetID, _ := age.GenerateX25519Identity()
	os.WriteFile(p("hq.agekey"), []byte(hqID.String()+"\n"), 0o600)
	rk, _ := trust.GenerateKey()
	signer, _ := trust.GenerateKey()
	trust.WritePrivateKey(p("sign.key"), signer)
	now := time.Now()
	root, _ := trust.New([]ed25519.PublicKey{rk.Public().(ed25519.PublicKey)}, 1, now.Add(-time.Hour))
	root.AddSigner("hq", signer.Public().(ed25519.PublicKey), now.Add(-time.Hour), now.AddDate(1, 0, 0))
	tf, _ := trust.Sign(root, rk)
	os.WriteFile(p("trust.json"), tf, 0o644)

	// The published national list: a stolen passport.
	os.MkdirAll(p("bundles"), 0o755)
	var wl bytes.Buffer
	signed, err := bundle.Build(context.Background(), &wl, &watchlist.SliceSource{Changes: []watchlist.Change{{Op: watchlist.OpPut,
		Kind: watchlist.KindDocument, ID: "D1", Document: &watchlist.DocumentAlert{ID: "D1", IssuingState: "UTO", DocumentType: "P",
			Number: "XQ0000009", Status: "stolen", Source: "SLTD", Action: watchlist.ActionRefer}}}}, bundle.BuildOptions{WatchlistID: "national",
		Sequence: 1, IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(48 * time.Hour), Key: signer,
		Recipients: []age.Recipient{hqID.Recipient(), fleetID.Recipient()}, TempDir: d})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p("wl.cpwl"), wl.Bytes(), 0o600)
	if _, err := bundle.Publish(p("bundles"), p("wl.cpwl"), signed, now, 0); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	args := []string{"serve", "--listen", addr, "--bundles", p("bundles"), "--cert", p("hub.pem"), "--key", p("hub.key"),
		"--data", p("data"), "--ca", fl.CACert, "--data-key", "file:" + p("hub.kek"), "--operator", "ops",
		"--paxdata-sign", p("sign.key"), "--paxdata-to", fleetID.Recipient().String(), "--paxdata-identity", p("hq.agekey"),
		"--paxdata-trust", p("trust.json"), "--paxdata-uploaders", "airline-gw", "--paxdata-zones", "LHR=Europe/London"}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, &bytes.Buffer{}, logs) }()

	pax := paxdatatest.Travellers(30, 9)
	pax[4].DocumentNumber, pax[4].IssuingState = "XQ0000009", "UTO"
	arr := now.Add(3 * time.Hour).Truncate(time.Minute)
	msg := paxdatatest.PAXLST(paxdatatest.Flight{Carrier: "XX", Number: "42", Departure: "JFK", Arrival: "LHR",
		DepartureAt: arr.Add(-7 * time.Hour), ArrivalAt: arr}, pax, "HUB1")
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: fl.ClientTLS(t, "airline-gw")}}
	deadline := time.Now().Add(30 * time.Second)
	var rc prearrival.Receipt
	for {
		resp, err := c.Post("https://"+addr+"/v1/paxdata", "application/edifact", bytes.NewReader(msg))
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&rc)
			resp.Body.Close()
			if resp.StatusCode == 200 && len(rc.Messages) == 1 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload: %v %+v\n%s", err, rc, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Screened now, or once the service has installed the watchlist.
	waitIndex := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(p("bundles"), "prearrival", "LHR", bundle.IndexFile)); err == nil {
			break
		}
		if time.Now().After(waitIndex) {
			t.Fatalf("no prearrival channel published\n%s", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A unit may not upload; the hub's own routes still answer.
	uc := &http.Client{Transport: &http.Transport{TLSClientConfig: fl.ClientTLS(t, "desk-1")}}
	if resp, err := uc.Post("https://"+addr+"/v1/paxdata", "application/edifact", bytes.NewReader(msg)); err != nil || resp.StatusCode != 403 {
		t.Fatalf("unit upload: %v %v", err, resp.StatusCode)
	}
	if resp, err := uc.Get("https://" + addr + "/v1/bundles/prearrival/LHR/index.json"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("channel index over the hub: %v %v", err, resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if l := logs.String(); strings.Contains(l, "XQ0000009") || strings.Contains(l, pax[4].Surname) || !strings.Contains(l, `"paxdata":true`) {
		t.Fatalf("logs:\n%s", l)
	}
}
