package unit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/internal/unit"
	"github.com/checkpoint-edge/checkpoint/internal/unit/unittest"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// startUnit runs a unit until the returned stop is called (or cleanup).
func startUnit(t testing.TB, f *unittest.Fixture) (*unit.Unit, func()) {
	t.Helper()
	u, err := unit.New(f.Config, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
		if err := u.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	t.Cleanup(stop)
	waitFor(t, "scanner connected", func() bool { return u.Health().Scanner == "connected" })
	return u, stop
}

// officerPage is a signed-in session on the unit's page.
type officerPage struct {
	base string
	c    *http.Client
}

func signIn(t *testing.T, f *unittest.Fixture) *officerPage {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	p := &officerPage{base: "http://" + f.Config.Web.Listen, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	req, _ := http.NewRequest(http.MethodPost, p.base+"/login", strings.NewReader(url.Values{"officer": {unittest.Officer}, "pin": {unittest.PIN}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.base)
	resp, err := p.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("sign-in: %s", resp.Status)
	}
	return p
}

func (p *officerPage) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.base+path, r)
	req.Header.Set("Origin", p.base)
	req.Header.Set("X-Checkpoint", "1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// pendingIDs is the work queue as the page gets it.
func (p *officerPage) pendingIDs(t *testing.T) []string {
	t.Helper()
	code, b := p.do(t, http.MethodGet, "/api/state", nil)
	if code != http.StatusOK {
		t.Fatalf("state: %d %s", code, b)
	}
	var st struct {
		Pending []lane.Transaction `json:"pending"`
		Health  lane.Health        `json:"health"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tx := range st.Pending {
		if !tx.Pending || tx.Face.HasImage {
			t.Fatalf("queue item %s: pending %v, image %v", tx.ID, tx.Pending, tx.Face.HasImage)
		}
		ids = append(ids, tx.ID)
	}
	return ids
}

// expired is a document nothing matches, expired last year: a REFER.
func expired(t *testing.T) []string {
	lines, err := mrz.Generate(mrz.Spec{Format: mrz.FormatTD3, DocumentCode: "P", IssuingState: "NZL", Surname: "TAYLOR",
		GivenNames: []string{"RUTH"}, DocumentNumber: "LB987654", Nationality: "NZL", BirthDate: time.Date(1966, 5, 1, 0, 0, 0, 0, time.UTC),
		ExpiryDate: time.Now().AddDate(-1, 0, 0), Sex: "F"})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func outboxVerdicts(t *testing.T, f *unittest.Fixture) map[string]string {
	t.Helper()
	kp, _ := seal.ParseProvider(f.Config.Outbox.Key)
	ob, err := outbox.Open(f.Config.Outbox.Path, kp, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	items, err := ob.Peek(1000, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range items {
		if it.Kind != "officer_decision" {
			continue
		}
		var v struct {
			TxID    string `json:"tx_id"`
			Verdict string `json:"verdict"`
		}
		if err := json.Unmarshal(it.Payload, &v); err != nil {
			t.Fatal(err)
		}
		out[v.TxID] = v.Verdict
	}
	return out
}

// TestWorkQueueSurvivesRestart: a HIT and a REFER nobody gave a verdict
// are on the officer's page again after the daemon restarts; a verdict on
// one is recorded (outbox, audit log) and takes it off the queue for good.
func TestWorkQueueSurvivesRestart(t *testing.T) {
	f := unittest.New(t, unittest.Options{})
	u, stop := startUnit(t, f)
	hit := decided(t, u, f, f.Stolen)
	refer := decided(t, u, f, expired(t))
	clear := decided(t, u, f, f.Clear)
	if hit.Decision != lane.Hit || refer.Decision != lane.Refer || clear.Decision != lane.Clear {
		t.Fatalf("decisions %s %s %s", hit.Decision, refer.Decision, clear.Decision)
	}
	stop() // no verdicts: a power cut, an upgrade

	raw, err := os.ReadFile(unit.PendingPath(f.Config.StateDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ERIKSSON", "TAYLOR", "X0000042", "LB987654"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("the work queue file holds %q in the clear", s)
		}
	}

	u, stop = startUnit(t, f)
	if got := ids(u.Pipeline().Pending()); !slices.Equal(got, []string{hit.ID, refer.ID}) {
		t.Fatalf("pending after the restart %v, want the HIT then the REFER", got)
	}
	page := signIn(t, f)
	// The page must show them before it may decide: /api/state does.
	if code, _ := page.do(t, http.MethodPost, "/api/transactions/"+refer.ID+"/verdict", lane.VerdictRequest{Verdict: lane.VerdictReferred}); code != http.StatusConflict {
		t.Fatalf("verdict before the page showed it: %d, want 409", code)
	}
	if got := page.pendingIDs(t); !slices.Equal(got, []string{hit.ID, refer.ID}) {
		t.Fatalf("page queue %v", got)
	}
	code, b := page.do(t, http.MethodPost, "/api/transactions/"+refer.ID+"/verdict", lane.VerdictRequest{Verdict: lane.VerdictReferred, Note: "sent to the second line"})
	if code != http.StatusOK {
		t.Fatalf("verdict on the reloaded REFER: %d %s", code, b)
	}
	if got := page.pendingIDs(t); !slices.Equal(got, []string{hit.ID}) {
		t.Fatalf("page queue after the verdict %v", got)
	}
	stop()

	if v := outboxVerdicts(t, f); v[refer.ID] != lane.VerdictReferred || len(v) != 1 {
		t.Fatalf("outbox verdicts %v", v)
	}
	if _, err := audit.Verify(f.Config.Audit.Path); err != nil {
		t.Fatal(err)
	}
	if a, _ := os.ReadFile(f.Config.Audit.Path); !bytes.Contains(a, []byte(`"tx":"`+refer.ID+`"`)) || !bytes.Contains(a, []byte(`"action":"referred"`)) {
		t.Fatal("the verdict is not in the audit log")
	}

	// The third start: the decided REFER is gone, the HIT still waits.
	u, stop = startUnit(t, f)
	defer stop()
	if got := ids(u.Pipeline().Pending()); !slices.Equal(got, []string{hit.ID}) {
		t.Fatalf("pending after the second restart %v, want the HIT only", got)
	}
	if slices.Contains(u.Health().AlarmCodes, "pending_store") {
		t.Fatal("alarm on a healthy work queue")
	}
}

// TestWorkQueueUnreadable: a damaged work queue file, or one sealed with
// another key, does not stop the lane: it is moved aside, the queue starts
// empty with an alarm, and new HITs are kept again.
func TestWorkQueueUnreadable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, path string)
	}{
		{"damaged", func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.Repeat([]byte("not a bbolt file "), 1000), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"another key", func(t *testing.T, path string) {
			os.Remove(path)
			st, err := unit.OpenPendingStore(path, seal.EnvKey{Var: "CHECKPOINT_TEST_OTHER_KEY"})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Save(lane.Transaction{ID: "x", State: lane.StateDecided, Decision: lane.Hit, Hits: []lane.HitView{}}); err != nil {
				t.Fatal(err)
			}
			st.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CHECKPOINT_TEST_OTHER_KEY", strings.Repeat("ab", 32))
			f := unittest.New(t, unittest.Options{})
			u, stop := startUnit(t, f)
			decided(t, u, f, f.Stolen)
			stop()
			path := unit.PendingPath(f.Config.StateDir)
			tc.spoil(t, path)

			u, stop = startUnit(t, f)
			h := u.Health()
			if !slices.Contains(h.AlarmCodes, "pending_store") || len(u.Pipeline().Pending()) != 0 {
				t.Fatalf("alarms %v, %d pending", h.AlarmCodes, len(u.Pipeline().Pending()))
			}
			aside, _ := filepath.Glob(path + ".unreadable-*")
			if len(aside) != 1 {
				t.Fatalf("moved aside: %v", aside)
			}
			hit := decided(t, u, f, f.Stolen)
			stop()
			u, stop = startUnit(t, f)
			defer stop()
			if got := ids(u.Pipeline().Pending()); !slices.Equal(got, []string{hit.ID}) {
				t.Fatalf("pending after the next restart %v", got)
			}
		})
	}
}

func ids(txs []lane.Transaction) []string {
	var out []string
	for _, tx := range txs {
		out = append(out, tx.ID)
	}
	return out
}
