package prearrival

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxdatatest"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// hq is headquarters for the tests: a signing key in a root of trust, its
// own age identity (to read the watchlist bundles), the fleet's (units'),
// a bundle directory, a clock.
type hq struct {
	key     ed25519.PrivateKey
	root    *trust.Root
	hqID    *age.X25519Identity
	fleetID *age.X25519Identity
	bundles string
	mu      sync.Mutex
	now     time.Time
	listed  []watchlist.Change
	stolen  []string
	seq     uint64
	dir     string
	svc     *Service
	kekPath string
}

func newHQ(t testing.TB) *hq {
	t.Helper()
	q := &hq{bundles: t.TempDir(), dir: t.TempDir(), now: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)}
	rk, _ := trust.GenerateKey()
	r, _ := trust.New([]ed25519.PublicKey{rk.Public().(ed25519.PublicKey)}, 1, q.now.Add(-time.Hour))
	q.key, _ = trust.GenerateKey()
	r.AddSigner("hq", q.key.Public().(ed25519.PublicKey), q.now.AddDate(0, -1, 0), q.now.AddDate(1, 0, 0))
	file, _ := trust.Sign(r, rk)
	q.root, _ = trust.Parse(file)
	q.hqID, _ = age.GenerateX25519Identity()
	q.fleetID, _ = age.GenerateX25519Identity()
	q.kekPath = filepath.Join(q.dir, "kek")
	seal.GenerateKeyFile(q.kekPath)
	return q
}

func (q *hq) clock() time.Time { q.mu.Lock(); defer q.mu.Unlock(); return q.now }
func (q *hq) advance(d time.Duration) {
	q.mu.Lock()
	q.now = q.now.Add(d)
	q.mu.Unlock()
}

// person lists a wanted person.
func person(id, sur, given, birth, nat, sex string) watchlist.Change {
	p := &watchlist.PersonAlert{ID: id, Name: watchlist.Name{Surname: sur, GivenNames: given}, Birth: birth, Nationality: nat, Sex: sex,
		Category: "foreign_terrorist_fighter", Action: watchlist.ActionDiscreetCheck, Source: "national"}
	watchlist.FillMRZ(p)
	return watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: id, Person: p}
}

func stolen(id, state, number string) watchlist.Change {
	return watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: id, Document: &watchlist.DocumentAlert{ID: id,
		IssuingState: state, DocumentType: "P", Number: number, Status: "stolen", Source: "SLTD", Action: watchlist.ActionRefer}}
}

// publishWatchlist publishes a full watchlist bundle of cs, readable by HQ
// and the fleet.
func (q *hq) publishWatchlist(t testing.TB, cs []watchlist.Change) {
	t.Helper()
	q.seq++
	var buf bytes.Buffer
	s, err := bundle.Build(context.Background(), &buf, &watchlist.SliceSource{Changes: cs}, bundle.BuildOptions{WatchlistID: "national",
		Sequence: q.seq, IssuedAt: q.clock().Add(-time.Minute), ExpiresAt: q.clock().Add(72 * time.Hour), Key: q.key,
		Recipients: []age.Recipient{q.hqID.Recipient(), q.fleetID.Recipient()}, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "wl.cpwl")
	os.WriteFile(p, buf.Bytes(), 0o600)
	if _, err := bundle.Publish(q.bundles, p, s, q.clock(), 0); err != nil {
		t.Fatal(err)
	}
}

func (q *hq) config() Config {
	return Config{Dir: filepath.Join(q.dir, "state"), Key: seal.FileKey{Path: q.kekPath}, BundleDir: q.bundles,
		Trust: q.root, Identities: []age.Identity{q.hqID}, Sign: q.key, Recipients: []age.Recipient{q.fleetID.Recipient()},
		Uploaders: []string{"airline-gw-1", "ops-1"}, Zones: map[string]*time.Location{"LHR": time.UTC}, Workers: 2, Now: q.clock}
}

func (q *hq) open(t *testing.T, inbox string) *Service {
	t.Helper()
	cfg := q.config()
	cfg.Inbox = inbox
	svc, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

// flight is a 400-passenger PAXLST to LHR with five listed travellers:
// two persons (one under another spelling), a third person, and two
// stolen passports.
func flight(q *hq, seed uint64, number string, arrival time.Time) ([]byte, map[int]bool) {
	pax := paxdatatest.Travellers(400, seed)
	r := rand.New(rand.NewPCG(seed, 1))
	listedAt := map[int]bool{}
	for i, c := range q.listed[:3] {
		at := 20 + i*100
		pax[at] = paxdatatest.FromPerson(c.Person, r)
		if i == 1 {
			pax[at].GivenNames = paxdatatest.Misspell(pax[at].GivenNames)
		}
		listedAt[at] = true
	}
	for i, num := range q.stolen[:2] {
		at := 50 + i*200
		pax[at].DocumentNumber, pax[at].IssuingState = num, "UTO"
		listedAt[at] = true
	}
	return paxdatatest.PAXLST(paxdatatest.Flight{Carrier: "XX", Number: number, Departure: "JFK", Arrival: "LHR",
		DepartureAt: arrival.Add(-7 * time.Hour), ArrivalAt: arrival}, pax, "M"+number), listedAt
}

func (q *hq) initList(t *testing.T) {
	q.listed = []watchlist.Change{
		person("P-1", "Al-Rashid", "Mohammed Abdulrahman", "1980-12-03", "SYR", "M"),
		person("P-2", "Haddad", "Khaled", "1985-04-17", "JOR", "M"),
		person("P-3", "Kowalczyk", "Anna", "1975-06-01", "POL", "F"),
	}
	q.stolen = []string{"XQ0000001", "XQ0000002"}
	cs := append([]watchlist.Change{}, q.listed...)
	cs = append(cs, stolen("D-1", "UTO", q.stolen[0]), stolen("D-2", "UTO", q.stolen[1]))
	q.publishWatchlist(t, cs)
}

// readChannel opens the published prearrival bundle of port as a unit of
// the fleet would.
func (q *hq) readChannel(t *testing.T, port string) (*bundle.Verified, []*paxdata.FlightAlerts) {
	t.Helper()
	f, err := os.Open(filepath.Join(q.bundles, "prearrival", port, bundle.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := bundle.ReadIndex(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := ix.Plan(0)
	v, recs, err := bundle.ReadChannel(context.Background(), filepath.Join(q.bundles, "prearrival", port, plan[0].File),
		bundle.Options{Trust: q.root, Identities: []age.Identity{q.fleetID}, Now: q.clock})
	if err != nil {
		t.Fatal(err)
	}
	var out []*paxdata.FlightAlerts
	for _, r := range recs {
		fa, err := paxdata.DecodeFlightAlerts(r, port)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fa)
	}
	return v, out
}

func TestUploadScreenPublish(t *testing.T) {
	q := newHQ(t)
	q.initList(t)
	svc := q.open(t, "")
	if changed, err := svc.SyncWatchlist(context.Background()); err != nil || !changed || svc.Watchlist().Sequence != 1 {
		t.Fatalf("sync: %v %v", changed, err)
	}

	// The hub's listener: mutual TLS, an airline gateway, an operator, a
	// unit that may not upload.
	ca, _ := pki.NewCA("test CA", 0)
	srvCert, _ := ca.IssueServer(nil, 0)
	sc, _ := srvCert.TLSCertificate()
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	ts := httptest.NewUnstartedServer(svc.Handler([]string{"ops-1"}))
	ts.TLS = pki.NewServerConfig(sc, pool)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	defer ts.Close()
	client := func(id string) *http.Client {
		c, _ := ca.IssueUnit(id, 0)
		tc, _ := c.TLSCertificate()
		return &http.Client{Transport: &http.Transport{TLSClientConfig: pki.NewClientConfig(tc, pool)}}
	}
	post := func(c *http.Client, body []byte) (int, []byte) {
		resp, err := c.Post(ts.URL+"/v1/paxdata", "application/edifact", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	arrival := q.clock().Add(5 * time.Hour)
	msg, listedAt := flight(q, 1, "123", arrival)
	code, body := post(client("airline-gw-1"), msg)
	if code != 200 {
		t.Fatalf("upload: %d %s", code, body)
	}
	var rc Receipt
	json.Unmarshal(body, &rc)
	if len(rc.Messages) != 1 || !rc.Messages[0].Screened || rc.Messages[0].Travellers != 400 || len(rc.Errors) != 0 {
		t.Fatalf("receipt %s", body)
	}
	// The airline learns nothing about who was flagged.
	for _, s := range []string{"hit", "RASHID", "KOWALCZYK", q.stolen[0], "P-1", "flagged"} {
		if bytes.Contains(bytes.ToLower(body), bytes.ToLower([]byte(s))) {
			t.Fatalf("receipt reveals %q: %s", s, body)
		}
	}

	v, flights := q.readChannel(t, "LHR")
	if len(flights) != 1 || !v.Encrypted || v.Header.Kind != bundle.KindPrearrival {
		t.Fatalf("channel: %d flights", len(flights))
	}
	fa := flights[0]
	flaggedAt := map[string]bool{}
	for _, a := range fa.Alerts {
		flaggedAt[a.Traveller.Surname+"/"+a.Traveller.DocumentNumber] = true
		if a.Traveller.BookingRef != "" {
			t.Fatal("booking reference in an alert")
		}
	}
	if fa.Flight != "XX0123" || fa.ScreenedBy != "HQ" || fa.Counts.Screened != 400 || fa.Counts.Hits < 5 || len(fa.Alerts) < 5 ||
		!v.Header.ExpiresAt.Equal(arrival.Add(6*time.Hour)) {
		t.Fatalf("flight alerts %+v (expires %v)", fa.Counts, v.Header.ExpiresAt)
	}
	t.Logf("flagged %d of 400 (listed %d): %+v", len(fa.Alerts), len(listedAt), fa.Counts)

	// Refusals.
	if code, _ := post(client("desk-07"), msg); code != 403 {
		t.Fatalf("a unit uploading: %d", code)
	}
	if code, _ := post(client("airline-gw-1"), []byte("not edifact")); code != 400 {
		t.Fatalf("garbage: %d", code)
	}
	if code, _ := post(client("airline-gw-1"), make([]byte, 17<<20)); code != 413 {
		t.Fatalf("too large: %d", code)
	}
	resp, err := client("airline-gw-1").Get(ts.URL + "/v1/paxdata/flights")
	if err != nil || resp.StatusCode != 403 {
		t.Fatalf("gateway reading the list: %v %v", err, resp.StatusCode)
	}
	resp, _ = client("ops-1").Get(ts.URL + "/v1/paxdata/flights")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"flight":"XX0123"`) || strings.Contains(string(b), "KOWALCZYK") {
		t.Fatalf("operator list: %d %s", resp.StatusCode, b)
	}

	// A second flight to the port joins the channel; a new watchlist
	// version screens both again.
	msg2, _ := flight(q, 2, "456", arrival.Add(time.Hour))
	if _, err := svc.Submit(context.Background(), msg2, "test"); err != nil {
		t.Fatal(err)
	}
	v1, flights := q.readChannel(t, "LHR")
	if len(flights) != 2 {
		t.Fatalf("%d flights after the second", len(flights))
	}
	q.listed = append(q.listed, person("P-4", "Extra", "Person", "1990-01-01", "UTO", "M"))
	cs := append([]watchlist.Change{}, q.listed...)
	cs = append(cs, stolen("D-1", "UTO", q.stolen[0]), stolen("D-2", "UTO", q.stolen[1]))
	q.advance(time.Minute)
	q.publishWatchlist(t, cs)
	changed, err := svc.SyncWatchlist(context.Background())
	if err != nil || !changed {
		t.Fatalf("second sync %v %v", changed, err)
	}
	if n, err := svc.Rescreen(context.Background()); err != nil || n != 2 {
		t.Fatalf("rescreened %d: %v", n, err)
	}
	v2, flights := q.readChannel(t, "LHR")
	if v2.Header.Sequence <= v1.Header.Sequence || flights[0].WatchlistSequence != 2 {
		t.Fatalf("after rescreen: sequence %d→%d, watchlist %d", v1.Header.Sequence, v2.Header.Sequence, flights[0].WatchlistSequence)
	}

	// A day after the arrival, the API data is deleted and the channel
	// empties; every step is in the audit log, without names.
	q.advance(5*time.Hour + 25*time.Hour)
	removed, err := svc.Enforce()
	if err != nil || len(removed) != 2 {
		t.Fatalf("retention: %+v %v", removed, err)
	}
	if _, err := svc.Publish("LHR"); err != nil {
		t.Fatal(err)
	}
	if _, flights = q.readChannel(t, "LHR"); len(flights) != 0 {
		t.Fatalf("%d flights after retention", len(flights))
	}
	logPath := filepath.Join(q.dir, "state", "audit.log")
	raw, _ := os.ReadFile(logPath)
	if _, err := audit.Verify(logPath); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"paxdata_screened"`, `"paxdata_published"`, `"paxdata_deleted"`, `"paxdata_watchlist_installed"`, `"rule":"api_delete"`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("audit lacks %s", want)
		}
	}
	for _, secret := range []string{"RASHID", "KOWALCZYK", q.stolen[0]} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("audit holds %s", secret)
		}
	}
}

func TestInboxAndBadMessages(t *testing.T) {
	q := newHQ(t)
	q.initList(t)
	inbox := t.TempDir()
	svc := q.open(t, inbox)
	// Before the watchlist is installed: stored, screened later.
	msg, _ := flight(q, 3, "777", q.clock().Add(3*time.Hour))
	rc, err := svc.Submit(context.Background(), msg, "test")
	if err != nil || len(rc.Messages) != 1 || rc.Messages[0].Screened || !strings.Contains(strings.Join(rc.Errors, ";"), "no watchlist") {
		t.Fatalf("before the watchlist: %+v %v", rc, err)
	}
	if changed, _ := svc.SyncWatchlist(context.Background()); !changed {
		t.Fatal("no sync")
	}
	if n, err := svc.Rescreen(context.Background()); err != nil || n != 1 {
		t.Fatalf("rescreen %d %v", n, err)
	}
	if _, fl := q.readChannel(t, "LHR"); len(fl) != 1 {
		t.Fatalf("%d flights", len(fl))
	}
	// A file in the inbox with a damaged message beside a good one.
	good, _ := flight(q, 4, "888", q.clock().Add(4*time.Hour))
	bad := bytes.Replace(good, []byte("NAD+FL"), []byte("NAD+QQ"), 1)
	bad = bytes.Replace(bad, []byte("M888"), []byte("MBAD"), -1)
	os.WriteFile(filepath.Join(inbox, "two.edi"), append(bad, good...), 0o600)
	os.WriteFile(filepath.Join(inbox, ".partial"), []byte("x"), 0o600)
	old := q.clock().Add(-time.Minute)
	os.Chtimes(filepath.Join(inbox, "two.edi"), old, old)
	svc.ScanInbox(context.Background())
	if _, err := os.Stat(filepath.Join(inbox, "two.edi")); !os.IsNotExist(err) {
		t.Fatal("screened file left in the inbox")
	}
	if _, err := os.Stat(filepath.Join(inbox, ".partial")); err != nil {
		t.Fatal("hidden file touched")
	}
	if _, fl := q.readChannel(t, "LHR"); len(fl) != 2 {
		t.Fatalf("%d flights after the inbox", len(fl))
	}
	raw, _ := os.ReadFile(filepath.Join(q.dir, "state", "audit.log"))
	if !bytes.Contains(raw, []byte(`"paxdata_message_refused"`)) || !bytes.Contains(raw, []byte(`party qualifier`)) {
		t.Fatalf("refusal not audited:\n%s", raw)
	}
}

func TestBusy(t *testing.T) {
	q := newHQ(t)
	svc := q.open(t, "")
	for range cap(svc.waiting) {
		svc.waiting <- struct{}{}
	}
	if _, err := svc.Submit(context.Background(), []byte("x"), "t"); err != ErrBusy {
		t.Fatalf("err %v", err)
	}
}
