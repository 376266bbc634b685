package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/internal/unit"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxstore"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// TestKeyRotationAudited rotates both stores' KEKs as a technician would,
// with checkpointd stopped, and finds each step (and an officer account
// change) in the unit's audit log.
func TestKeyRotationAudited(t *testing.T) {
	dir := t.TempDir()
	wlKEK, obKEK := seal.NewKey(), seal.NewKey()
	env := []string{"CP_ROT_WL=" + hex.EncodeToString(wlKEK), "CP_ROT_OB=" + hex.EncodeToString(obKEK)}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		t.Setenv(k, v)
	}
	cfg := writeMinimalConfig(t, dir, "watchlist: {key: env:CP_ROT_WL}\noutbox: {key: env:CP_ROT_OB}\n")
	wlPath, obPath := filepath.Join(dir, "watchlist.db"), filepath.Join(dir, "outbox.db")

	s, err := watchlist.Open(wlPath, seal.EnvKey{Var: "CP_ROT_WL"}, watchlist.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	o, err := outbox.Open(obPath, seal.EnvKey{Var: "CP_ROT_OB"}, outbox.Options{UnitID: "desk-07"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := o.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: outbox.Hit, Payload: json.RawMessage(`{"n":` + string(rune('0'+i)) + `}`)}); err != nil {
			t.Fatal(err)
		}
	}
	// The officer's work queue shares the outbox's key and rotates with it.
	pq, err := unit.OpenPendingStore(unit.PendingPath(dir), seal.EnvKey{Var: "CP_ROT_OB"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pq.Save(lane.Transaction{ID: "tx-1", State: lane.StateDecided, Decision: lane.Hit, Hits: []lane.HitView{}}); err != nil {
		t.Fatal(err)
	}
	pq.Close()
	pendingWith := func(kp seal.KeyProvider) ([]lane.Transaction, error) {
		st, err := unit.OpenPendingStore(unit.PendingPath(dir), kp)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		return st.Load()
	}
	rotate := func(args ...string) (string, string, int) {
		return runTech(t, "", env, append([]string{"keys", "rotate", "--config", cfg}, args...)...)
	}
	newOB := filepath.Join(dir, "outbox-2.kek")

	// The daemon (here: this test) holds the outbox.
	if _, errOut, code := rotate("outbox", "--new-key", "file:"+newOB, "--generate"); code != exitRotateBusy || !strings.Contains(errOut, "stop checkpointd") {
		t.Fatalf("rotating a busy outbox: exit %d, %q", code, errOut)
	}
	o.Close()
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wrong old key", []string{"outbox", "--old-key", "env:CP_ROT_WL", "--new-key", "file:" + newOB}, exitRotateWrong, "old key does not open"},
		{"same key", []string{"outbox", "--new-key", "env:CP_ROT_OB"}, exitRotateUsage, "new key is the old one"},
		{"no new key", []string{"outbox"}, exitRotateUsage, "--new-key is required"},
		{"unknown store", []string{"hub", "--new-key", "file:" + newOB}, exitRotateUsage, "unknown store"},
		{"generate over a key", []string{"outbox", "--new-key", "file:" + newOB, "--generate"}, exitRotateUsage, "refusing to overwrite"},
	}
	for _, c := range cases {
		if _, errOut, code := rotate(c.args...); code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, %q; want %d and %q", c.name, code, errOut, c.code, c.want)
		}
	}
	// A refused rotation changed nothing: the old key still opens.
	if o, err := outbox.Open(obPath, seal.EnvKey{Var: "CP_ROT_OB"}, outbox.Options{}); err != nil {
		t.Fatalf("after refused rotations: %v", err)
	} else {
		o.Close()
	}
	if txs, err := pendingWith(seal.EnvKey{Var: "CP_ROT_OB"}); err != nil || len(txs) != 1 {
		t.Fatalf("work queue after refused rotations: %d, %v", len(txs), err)
	}

	out, errOut, code := rotate("outbox", "--new-key", "file:"+newOB, "--json")
	if code != 0 {
		t.Fatalf("rotate outbox: exit %d: %s", code, errOut)
	}
	var rep rotateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.NewKey != "file:"+newOB || rep.Config != "env:CP_ROT_OB" {
		t.Fatalf("report %q: %+v, %v", out, rep, err)
	}
	if _, err := outbox.Open(obPath, seal.EnvKey{Var: "CP_ROT_OB"}, outbox.Options{}); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("outbox with the old key after rotation: %v", err)
	}
	o, err = outbox.Open(obPath, seal.FileKey{Path: newOB}, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st := o.Status(); st.Depth != 5 {
		t.Fatalf("queue depth %d after rotation, want 5", st.Depth)
	}
	o.Close()
	if _, err := pendingWith(seal.EnvKey{Var: "CP_ROT_OB"}); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("work queue with the old key after rotation: %v", err)
	}
	if txs, err := pendingWith(seal.FileKey{Path: newOB}); err != nil || len(txs) != 1 || txs[0].ID != "tx-1" {
		t.Fatalf("work queue with the new key: %d, %v", len(txs), err)
	}

	// The channel store and the API/PNR store share the watchlist's key
	// (the config names no key of their own) and rotate with it.
	chPath, paxPath := filepath.Join(dir, "channels.db"), filepath.Join(dir, "paxdata.db")
	if cs, err := channel.Open(chPath, seal.EnvKey{Var: "CP_ROT_WL"}, channel.Options{NoSync: true}); err != nil {
		t.Fatal(err)
	} else {
		cs.Close()
	}
	if ps, err := paxstore.Open(paxPath, seal.EnvKey{Var: "CP_ROT_WL"}, paxstore.Options{NoSync: true}); err != nil {
		t.Fatal(err)
	} else {
		ps.Close()
	}

	newWL := filepath.Join(dir, "watchlist-2.kek")
	if out, errOut, code := rotate("watchlist", "--new-key", "file:"+newWL, "--generate"); code != 0 || !strings.Contains(out, "opens with file:"+newWL+" only") {
		t.Fatalf("rotate watchlist: exit %d: %s%s", code, out, errOut)
	}
	if st, err := os.Stat(newWL); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("generated key: %v %v", err, st)
	}
	if _, err := watchlist.Open(wlPath, seal.FileKey{Path: newWL}, watchlist.Options{ReadOnly: true}); err != nil {
		t.Fatalf("watchlist with the new key: %v", err)
	}
	for _, kp := range []seal.KeyProvider{seal.FileKey{Path: newWL}, seal.EnvKey{Var: "CP_ROT_WL"}} {
		cs, cerr := channel.Open(chPath, kp, channel.Options{})
		if cerr == nil {
			cs.Close()
		}
		ps, perr := paxstore.Open(paxPath, kp, paxstore.Options{})
		if perr == nil {
			ps.Close()
		}
		if _, isNew := kp.(seal.FileKey); isNew && (cerr != nil || perr != nil) {
			t.Fatalf("channel and paxdata stores with the new key: %v, %v", cerr, perr)
		} else if !isNew && (!errors.Is(cerr, seal.ErrWrongKey) || !errors.Is(perr, seal.ErrWrongKey)) {
			t.Fatalf("channel and paxdata stores with the old key after rotation: %v, %v", cerr, perr)
		}
	}

	if _, errOut, code := runTech(t, "246810\n", env, "officer", "add", "--config", cfg, "--pin-stdin", "--id", "o9", "--name", "Eva Holm"); code != 0 {
		t.Fatalf("officer add: exit %d: %s", code, errOut)
	}

	rep2, err := audit.Verify(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "audit.log"))
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var e audit.Entry
		json.Unmarshal([]byte(line), &e)
		if e.Kind != audit.KindKeyOperation || !strings.HasPrefix(e.Actor, "technician:") {
			t.Errorf("entry %d: kind %s, actor %s", e.Seq, e.Kind, e.Actor)
		}
		actions = append(actions, e.Action+":"+e.Fields["store"]+e.Fields["officer"])
	}
	// The busy attempt and the wrong-key attempt left a trace too.
	want := "kek_rotation_started:outbox kek_rotation_failed:outbox kek_rotation_started:outbox kek_rotation_failed:outbox " +
		"kek_rotation_started:outbox kek_rotated:outbox kek_rotation_started:watchlist kek_rotated:watchlist officer_added:o9"
	if got := strings.Join(actions, " "); got != want || rep2.Entries != 9 {
		t.Fatalf("audit log (%d entries):\n got %s\nwant %s", rep2.Entries, got, want)
	}
	if strings.Contains(string(raw), "Eva Holm") || strings.Contains(string(raw), "246810") {
		t.Fatal("the audit log holds an officer's name or PIN")
	}
}
