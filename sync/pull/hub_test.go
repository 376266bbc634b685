package pull

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/internal/backoff/backofftest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// hub is a real HTTPS server requiring client certificates that serves a
// publication directory with http.ServeContent, as cmd/checkpoint-hub does.
type hub struct {
	dir      string
	srv      *httptest.Server
	clientTL *tls.Config
	ca       *pki.CA
	requests atomic.Int64
	ranges   atomic.Int64
	etags    sync.Map // path+size+mtime -> etag
}

func newHub(t testing.TB) *hub {
	t.Helper()
	ca, err := pki.NewCA("test fleet CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	srvCert, err := ca.IssueServer(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	unit, err := ca.IssueUnit("unit-0042", 0)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509Pool(ca)
	sc, _ := srvCert.TLSCertificate()
	uc, _ := unit.TLSCertificate()
	h := &hub{dir: t.TempDir(), ca: ca}
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(h.serve))
	h.srv.TLS = pki.NewServerConfig(sc, pool)
	h.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	h.srv.StartTLS()
	t.Cleanup(h.srv.Close)
	h.clientTL = pki.NewClientConfig(uc, pool)
	return h
}

func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	if r.Header.Get("Range") != "" {
		h.ranges.Add(1)
	}
	if _, err := pki.UnitID(r.TLS); err != nil {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, "/v1/bundles/")
	if !ok || strings.Contains(rel, "..") {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(h.dir, filepath.FromSlash(rel)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, _ := f.Stat()
	key := fmt.Sprint(rel, st.Size(), st.ModTime().UnixNano())
	etag, ok := h.etags.Load(key)
	if !ok {
		s := sha256.New()
		io.Copy(s, f)
		etag = `"` + hex.EncodeToString(s.Sum(nil))[:32] + `"`
		h.etags.Store(key, etag)
	}
	w.Header().Set("ETag", etag.(string))
	http.ServeContent(w, r, st.Name(), st.ModTime(), f)
}

// cutProxy forwards TCP connections to target and cuts each one after a
// budget of bytes towards the client: a link that keeps dropping.
type cutProxy struct {
	ln     net.Listener
	target string
	every  int64
	rnd    *rand.Rand
	mu     sync.Mutex
	conns  []net.Conn
	cuts   atomic.Int64
	wg     sync.WaitGroup
}

func newCutProxy(t testing.TB, target string, every int64) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, every: every, rnd: rand.New(rand.NewPCG(1, 2))}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		budget := int64(-1)
		if p.every > 0 {
			budget = p.every*3/4 + p.rnd.Int64N(p.every/2+1)
		}
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(b, c); b.Close() }()
		go func() {
			defer p.wg.Done()
			if budget < 0 {
				io.Copy(c, b)
			} else if n, _ := io.CopyN(c, b, budget); n == budget {
				p.cuts.Add(1)
			}
			c.Close()
			b.Close()
		}()
	}
}

func (p *cutProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// hq signs and encrypts bundles for one unit.
type hq struct {
	key  ed25519.PrivateKey
	root *trust.Root
	id   *age.X25519Identity
	dir  string
}

func newHQ(t testing.TB) *hq {
	t.Helper()
	rk, _ := trust.GenerateKey()
	r, err := trust.New([]ed25519.PublicKey{rk.Public().(ed25519.PublicKey)}, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	q := &hq{dir: t.TempDir()}
	q.key, _ = trust.GenerateKey()
	r.AddSigner("hq", q.key.Public().(ed25519.PublicKey), time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	file, _ := trust.Sign(r, rk)
	if q.root, err = trust.Parse(file); err != nil {
		t.Fatal(err)
	}
	q.id, _ = age.GenerateX25519Identity()
	return q
}

func (q *hq) opts() bundle.Options {
	return bundle.Options{Trust: q.root, Identities: []age.Identity{q.id}}
}

// publish builds a bundle (delta when base > 0, with state st) and
// publishes it into the hub's directory.
func (q *hq) publish(t testing.TB, h *hub, seq, base uint64, cs []watchlist.Change, st *bundle.State) {
	t.Helper()
	path := filepath.Join(q.dir, fmt.Sprintf("b%d-%d", base, seq))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := bundle.Build(context.Background(), f, &watchlist.SliceSource{Changes: cs}, bundle.BuildOptions{
		WatchlistID: "national", Sequence: seq, BaseSequence: base, IssuedAt: time.Now().Add(-time.Minute),
		ExpiresAt: time.Now().Add(48 * time.Hour), Key: q.key, Recipients: []age.Recipient{q.id.Recipient()},
		State: st, TempDir: q.dir,
	})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Publish(h.dir, path, signed, time.Now(), 0); err != nil {
		t.Fatal(err)
	}
}

func openStore(t testing.TB) *watchlist.Store {
	t.Helper()
	dir := t.TempDir()
	kek := filepath.Join(dir, "kek")
	if err := seal.GenerateKeyFile(kek); err != nil {
		t.Fatal(err)
	}
	s, err := watchlist.Open(filepath.Join(dir, "w.db"), seal.FileKey{Path: kek}, watchlist.Options{Timeout: 5 * time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// docs returns n document puts; tag varies their content.
func docs(n int, tag string) []watchlist.Change {
	out := make([]watchlist.Change, n)
	for i := range out {
		id := fmt.Sprintf("D%06d", i)
		out[i] = watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: id, Document: &watchlist.DocumentAlert{
			ID: id, IssuingState: "UTO", Number: fmt.Sprintf("N%07d", i), Status: "stolen" + tag, Source: "SLTD", Action: watchlist.ActionAlertOnly,
		}}
	}
	return out
}

// heavy returns persons with random (incompressible) photos, about size
// bytes in all.
func heavy(size int) []watchlist.Change {
	const photo = 80 << 10
	r := rand.New(rand.NewPCG(3, 4))
	var out []watchlist.Change
	for i := 0; i*photo < size; i++ {
		id := fmt.Sprintf("P%06d", i)
		img := make([]byte, photo)
		for j := range img {
			img[j] = byte(r.Uint32())
		}
		out = append(out, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: id, Person: &watchlist.PersonAlert{
			ID: id, Name: watchlist.Name{Surname: "X", MRZ: []string{"X<<"}}, Category: "wanted", Action: watchlist.ActionRefer,
			Source: "national", Photo: img,
		}})
	}
	return out
}

func stateOf(t testing.TB, cs []watchlist.Change) *bundle.State {
	var st bundle.State
	for i := range cs {
		if err := st.Add(&cs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return &st
}

// slept counts and sums the waits clk was asked for.
func slept(clk *backofftest.Clock) (n int, total time.Duration) {
	w := clk.Waits()
	for _, d := range w {
		total += d
	}
	return len(w), total
}

func x509Pool(ca *pki.CA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}
