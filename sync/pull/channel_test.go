package pull

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/internal/backoff/backofftest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
)

// publishChannel builds a channel bundle of recs and publishes it into the
// hub's directory under <kind>/<channel>/.
func (q *hq) publishChannel(t testing.TB, h *hub, kind, ch string, seq uint64, recs []bundle.Record) {
	t.Helper()
	var buf bytes.Buffer
	signed, err := bundle.BuildChannel(&buf, recs, bundle.ChannelBuildOptions{Kind: kind, Channel: ch, Sequence: seq,
		IssuedAt: time.Now().Add(-time.Minute), ExpiresAt: time.Now().Add(6 * time.Hour), Key: q.key,
		Recipients: []age.Recipient{q.id.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(q.dir, fmt.Sprintf("%s-%s-%d", kind, ch, seq))
	os.WriteFile(path, buf.Bytes(), 0o600)
	if _, err := bundle.Publish(h.dir, path, signed, time.Now(), 2); err != nil {
		t.Fatal(err)
	}
}

// sink is a channel consumer that keeps what it was loaded with.
type sink struct {
	mu   sync.Mutex
	recs map[string][]bundle.Record
}

func (s *sink) Validate(string, []bundle.Record) error { return nil }
func (s *sink) Load(st channel.State, recs []bundle.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recs == nil {
		s.recs = map[string][]bundle.Record{}
	}
	s.recs[st.Kind+"/"+st.Channel] = recs
}
func (s *sink) get(k string) []bundle.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recs[k]
}

func openChannels(t testing.TB) *channel.Store {
	t.Helper()
	dir := t.TempDir()
	kek := filepath.Join(dir, "kek")
	seal.GenerateKeyFile(kek)
	s, err := channel.Open(filepath.Join(dir, "channels.db"), seal.FileKey{Path: kek}, channel.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func smallRecs(n int, tag string) []bundle.Record {
	out := make([]bundle.Record, n)
	for i := range out {
		out[i] = bundle.Record{ID: fmt.Sprint(tag, i), Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
	}
	return out
}

// TestPullChannels pulls two channels of different kinds from a real mTLS
// hub into one channel store, each with its own index and puller.
func TestPullChannels(t *testing.T) {
	h, q := newHub(t), newHQ(t)
	store, reg, snk := openChannels(t), channel.NewRegistry(), &sink{}
	reg.Register(bundle.KindPrearrival, snk)
	reg.Register(bundle.KindAlerts, snk)
	q.publishChannel(t, h, bundle.KindPrearrival, "LHR", 100, smallRecs(40, "p"))
	q.publishChannel(t, h, bundle.KindAlerts, "national", 7, smallRecs(3, "a"))
	// Another port's alerts sit beside ours: never installed here.
	q.publishChannel(t, h, bundle.KindPrearrival, "CDG", 500, smallRecs(9, "c"))

	puller := func(kind, ch string) *Puller {
		p, err := New(Config{BaseURL: "https://" + h.srv.Listener.Addr().String() + "/v1/bundles/", TLS: h.clientTL,
			Dir: t.TempDir(), Clock: backofftest.New(time.Now()),
			Target: &channel.Target{Store: store, Registry: reg, Kind: kind, Channel: ch, Bundle: q.opts()}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	pre, alerts := puller(bundle.KindPrearrival, "LHR"), puller(bundle.KindAlerts, "national")
	for _, c := range []struct {
		p    *Puller
		key  string
		seq  uint64
		recs int
	}{{pre, "prearrival/LHR", 100, 40}, {alerts, "alerts/national", 7, 3}} {
		res, err := c.p.Once(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", c.key, err)
		}
		if len(res.Installed) != 1 || res.Sequence != c.seq || len(snk.get(c.key)) != c.recs {
			t.Fatalf("%s: %+v, consumer has %d", c.key, res, len(snk.get(c.key)))
		}
	}
	if got := snk.get("prearrival/CDG"); got != nil {
		t.Fatal("another port's channel was installed")
	}
	res, err := pre.Once(context.Background())
	if err != nil || !res.NotModified || len(res.Installed) != 0 {
		t.Fatalf("unchanged index: %+v %v", res, err)
	}
	q.publishChannel(t, h, bundle.KindPrearrival, "LHR", 101, smallRecs(2, "q"))
	if res, err = pre.Once(context.Background()); err != nil || res.Sequence != 101 || len(snk.get("prearrival/LHR")) != 2 {
		t.Fatalf("newer bundle: %+v %v", res, err)
	}
	if l := pre.Link(); l.State != LinkUp || l.Installed != 101 {
		t.Fatalf("link %+v", l)
	}

	// A hub that serves another channel's index under ours is refused,
	// and the link is up (the content is wrong, not the link).
	lhr := filepath.Join(h.dir, "prearrival", "LHR", bundle.IndexFile)
	b, _ := os.ReadFile(filepath.Join(h.dir, "prearrival", "CDG", bundle.IndexFile))
	os.WriteFile(lhr, b, 0o644)
	if _, err := pre.Once(context.Background()); !errors.Is(err, bundle.ErrChannelMismatch) {
		t.Fatalf("swapped index: %v", err)
	}
	if l := pre.Link(); l.State != LinkUp || l.Failures != 1 {
		t.Fatalf("link after a refusal %+v", l)
	}
	if st, _, _ := store.State(bundle.KindPrearrival, "LHR"); st.Sequence != 101 {
		t.Fatalf("state changed to %d", st.Sequence)
	}
}

// TestPullChannelResumes downloads a ~3 MB channel bundle through a link
// that drops every ~256 KB: it resumes with Range and never refetches.
func TestPullChannelResumes(t *testing.T) {
	h, q := newHub(t), newHQ(t)
	store, reg, snk := openChannels(t), channel.NewRegistry(), &sink{}
	reg.Register(bundle.KindTrust, snk)
	recs := make([]bundle.Record, 300)
	for i := range recs {
		der := make([]byte, 7000)
		rand.Read(der)
		recs[i] = bundle.Record{ID: fmt.Sprint("csca-", i), Data: json.RawMessage(`"` + base64.StdEncoding.EncodeToString(der) + `"`)}
	}
	q.publishChannel(t, h, bundle.KindTrust, "icao", 1, recs)
	proxy := newCutProxy(t, h.srv.Listener.Addr().String(), 256<<10)
	p, err := New(Config{BaseURL: "https://" + proxy.addr() + "/v1/bundles/", TLS: h.clientTL, Dir: t.TempDir(),
		Clock: backofftest.New(time.Now()), Target: &channel.Target{Store: store, Registry: reg, Kind: bundle.KindTrust, Channel: "icao", Bundle: q.opts()}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	res, err := p.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d := res.Downloads[0]
	if len(snk.get("trust/icao")) != 300 || d.Resumes < int(d.Size/(320<<10))-1 || d.Bytes != d.Size || d.Restarts != 0 {
		t.Fatalf("download %+v, %d records", d, len(snk.get("trust/icao")))
	}
	t.Logf("download: %+v", d)
}
