package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/browsertest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/vision"
)

// A lane for the page's tests: the real pipeline with a real encrypted
// outbox and a real audit log; the watchlist's answers are scripted per
// traveller (the end-to-end tests in cmd/checkpointd use the real
// watchlist, camera and models), and the camera shows labelled photos of
// the shared test set.

type laneBackend struct {
	p      *lane.Pipeline
	b      *lane.Broker
	health lane.Health
}

func (l *laneBackend) Recent(n int) []lane.Transaction            { return l.p.Recent(n) }
func (l *laneBackend) Transaction(id string) *lane.Transaction    { return l.p.Transaction(id) }
func (l *laneBackend) Pending() []lane.Transaction                { return l.p.Pending() }
func (l *laneBackend) History(q lane.HistoryQuery) []lane.Summary { return l.p.History(q) }
func (l *laneBackend) Record(ctx context.Context, r lane.VerdictRequest) (*lane.Transaction, error) {
	return l.p.Record(ctx, r)
}
func (l *laneBackend) Health() lane.Health                         { return l.health }
func (l *laneBackend) Subscribe(n int) (<-chan lane.Event, func()) { return l.b.Subscribe(n) }

// outboxQueue puts lane items in the real outbox.
type outboxQueue struct{ ob *outbox.Outbox }

func (q outboxQueue) Enqueue(ctx context.Context, it lane.Item) error {
	p := outbox.Routine
	if it.Hit {
		p = outbox.Hit
	}
	_, err := q.ob.Enqueue(ctx, outbox.Item{Kind: it.Kind, Priority: p, CreatedAt: it.Created, Payload: it.Payload})
	return err
}

type auditLog struct{ l *audit.Log }

func (a auditLog) Append(kind, actor, action string, fields map[string]string) error {
	_, err := a.l.Append(kind, actor, action, fields)
	return err
}

// traveller is one scan: a document, the face the camera shows, and what
// the watchlist answers.
type traveller struct {
	spec  mrz.Spec
	photo string // file in the shared faces directory, "" for no face
	hits  []lane.HitView
	hold  chan struct{} // when set, the check waits for it (a slow check)
	// chip is what the chip reader reads, chipPhoto the shared photo its
	// DG2 holds; nil: no chip presented.
	chip      *lane.ChipResult
	chipPhoto string
}

type scripted struct {
	mu   sync.Mutex
	next *traveller
}

func (s *scripted) set(tr *traveller) { s.mu.Lock(); s.next = tr; s.mu.Unlock() }
func (s *scripted) cur() *traveller   { s.mu.Lock(); defer s.mu.Unlock(); return s.next }

type scriptedChecker struct{ s *scripted }

func (c scriptedChecker) Check(ctx context.Context, d *mrz.Document, f *lane.FaceCapture) (lane.CheckResult, error) {
	tr := c.s.cur()
	if tr.hold != nil {
		select {
		case <-tr.hold:
		case <-ctx.Done():
			return lane.CheckResult{}, ctx.Err()
		}
	}
	return lane.CheckResult{Hits: slices.Clone(tr.hits), Sequence: 12}, nil
}

type scriptedFaces struct {
	s     *scripted
	faces string
}

func (f scriptedFaces) Up() bool { return true }
func (f scriptedFaces) Capture(ctx context.Context, w time.Duration) (lane.FaceCapture, error) {
	tr := f.s.cur()
	if tr.photo == "" || f.faces == "" {
		return lane.FaceCapture{FacesSeen: 0}, nil
	}
	b, err := os.ReadFile(filepath.Join(f.faces, tr.photo))
	if err != nil {
		return lane.FaceCapture{}, err
	}
	fc := lane.FaceCapture{Captured: true, Quality: .82, JPEG: b, FacesSeen: 1}
	if tr.chip != nil {
		// The live face's embedding, for the 1:1 with the chip photo.
		fc.Descriptor, fc.ModelID = []float32{0.1, 0.2, 0.3}, "test-model"
	}
	return fc, nil
}

// scriptedChip reads the traveller's scripted chip.
type scriptedChip struct {
	s     *scripted
	faces string
}

func (c scriptedChip) Up() bool { return true }
func (c scriptedChip) Read(ctx context.Context, d *mrz.Document, expected bool) lane.ChipResult {
	tr := c.s.cur()
	if tr.chip == nil {
		return lane.ChipResult{View: lane.ChipView{Expected: expected, State: lane.ChipSkipped, Line: "no chip"}}
	}
	r := *tr.chip
	r.View.Expected = expected
	if tr.chipPhoto != "" && c.faces != "" {
		if b, err := os.ReadFile(filepath.Join(c.faces, tr.chipPhoto)); err == nil {
			r.Photo, r.View.HasPhoto = b, true
		}
	}
	return r
}

// pageLane is a signed-in-able officer page over a real lane.
type pageLane struct {
	t      testing.TB
	srv    *httptest.Server
	s      *Server
	p      *lane.Pipeline
	ob     *outbox.Outbox
	al     *audit.Log
	dir    string
	faces  string
	script *scripted
}

// Officers of the page tests, one per language.
var pageOfficers = []struct{ id, name, pin, lang string }{
	{"o1", "Officer One", "246810", ""},
	{"o2", "Officer Two", "135790", "ar"},
	{"o3", "Officier Trois", "975310", "fr"},
}

func newPageLane(t testing.TB, sound bool) *pageLane {
	t.Helper()
	return newLaneOf(t, sound, true)
}

// newAPILane is a lane without a camera: travellers without a hit are CLEAR.
func newAPILane(t testing.TB) *pageLane {
	t.Helper()
	return newLaneOf(t, false, false)
}

func newLaneOf(t testing.TB, sound, camera bool) *pageLane {
	t.Helper()
	faces, _ := vision.FindFaces() // photos are needed only where a test shows them (photo)
	dir := t.TempDir()
	var err error
	l := &pageLane{t: t, dir: dir, faces: faces, script: &scripted{next: &traveller{}}}
	kek := filepath.Join(dir, "outbox.kek")
	if err := seal.GenerateKeyFile(kek); err != nil {
		t.Fatal(err)
	}
	if l.ob, err = outbox.Open(filepath.Join(dir, "outbox.db"), seal.FileKey{Path: kek}, outbox.Options{UnitID: "desk-01"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.ob.Close() })
	if l.al, _, err = audit.Open(filepath.Join(dir, "audit.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.al.Close() })
	b := lane.NewBroker()
	discreet := func(h lane.HitView) bool {
		return h.Action == "discreet_check" || h.Category == "foreign_terrorist_fighter"
	}
	cfg := lane.Config{Unit: "desk-01", Mode: "desk", Policy: lane.Policy{ReferWithoutFace: true, ReferInvalidMRZ: true,
		Chip: lane.ChipPolicy{ReferIntegrity: true, ReferFaceMismatch: true, FaceDistance: 0.4, Expected: "none"}},
		Checker: scriptedChecker{l.script}, Queue: outboxQueue{l.ob}, Audit: auditLog{l.al}, Broker: b, Discreet: discreet}
	if camera {
		cfg.Faces = scriptedFaces{s: l.script, faces: faces}
		cfg.Chip = scriptedChip{s: l.script, faces: faces}
	}
	l.p, err = lane.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	acc := &Accounts{}
	for _, o := range pageOfficers {
		acc.Set(o.id, o.name, o.pin)
		if err := acc.SetLang(o.id, o.lang); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "officers.json")
	if err := acc.Save(path); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o600)
	af, err := OpenAccountsFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	health := lane.Health{Unit: "desk-01", Mode: "desk", Scanner: "connected", Camera: "streaming", WatchlistSeq: 12,
		WatchlistAge: "3h0m0s", Link: "up"}
	l.s = New(&laneBackend{p: l.p, b: b, health: health}, Options{AccountsFile: af, SessionTTL: time.Hour, Page: PageOptions{Language: "en", Sound: sound}})
	l.srv = httptest.NewServer(l.s)
	t.Cleanup(l.srv.Close)
	return l
}

// need fails in CI and skips elsewhere when a prerequisite is missing.
func need(t testing.TB, ok bool, what string) { t.Helper(); browsertest.Need(t, ok, what) }

// scan runs one traveller through the lane and returns the decided
// transaction.
func (l *pageLane) scan(tr *traveller) *lane.Transaction {
	l.t.Helper()
	tx, err := l.start(tr)()
	if err != nil {
		l.t.Fatal(err)
	}
	return tx
}

// start begins a scan and returns a function waiting for its decision.
func (l *pageLane) start(tr *traveller) func() (*lane.Transaction, error) {
	l.t.Helper()
	spec := tr.spec
	if spec.Format == "" {
		spec.Format = mrz.FormatTD3
	}
	if spec.DocumentCode == "" {
		spec.DocumentCode = "P"
	}
	if spec.ExpiryDate.IsZero() {
		spec.ExpiryDate = time.Now().AddDate(4, 2, 0)
	}
	if spec.IssuingState == "" {
		spec.IssuingState = spec.Nationality
	}
	lines, err := mrz.Generate(spec)
	if err != nil {
		l.t.Fatal(err)
	}
	doc := mrz.Parse(lines, mrz.Options{})
	if !doc.Valid {
		l.t.Fatalf("generated MRZ invalid: %v", doc.Problems)
	}
	l.script.set(tr)
	type res struct {
		tx  *lane.Transaction
		err error
	}
	ch := make(chan res, 1)
	go func() {
		tx, err := l.p.Process(context.Background(), lane.DocumentEvent{Document: doc, Source: "scanner", At: time.Now()})
		ch <- res{tx, err}
	}()
	return func() (*lane.Transaction, error) {
		select {
		case r := <-ch:
			return r.tx, r.err
		case <-time.After(time.Minute):
			return nil, fmt.Errorf("no decision within a minute")
		}
	}
}

// photo reads a shared face photo (the listed person's reference photo).
func (l *pageLane) photo(name string) []byte {
	l.t.Helper()
	need(l.t, l.faces != "", "labelled face photos (../shared/testdata/faces)")
	b, err := os.ReadFile(filepath.Join(l.faces, name))
	if err != nil {
		l.t.Fatal(err)
	}
	return b
}

// verdicts are the officer decisions in the outbox, oldest first.
func (l *pageLane) verdicts() []map[string]any {
	l.t.Helper()
	recs, err := l.ob.Peek(1000, 64<<20)
	if err != nil {
		l.t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range recs {
		if r.Kind != "officer_decision" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(r.Payload, &m); err != nil {
			l.t.Fatal(err)
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b map[string]any) int {
		return time.Time(mustTime(a["at"])).Compare(mustTime(b["at"]))
	})
	return out
}

func mustTime(v any) time.Time {
	s, _ := v.(string)
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// The demo cast of the page tests: made-up identities, photos from the
// shared set that fit them (young Korean and Taiwanese adults).
func born(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func wantedTraveller(l *pageLane) *traveller {
	return &traveller{
		spec:  mrz.Spec{Surname: "PARK", GivenNames: []string{"JIWOO"}, DocumentNumber: "M70412345", Nationality: "KOR", BirthDate: born(1998, 3, 12), Sex: "M"},
		photo: "jimin.jpg",
		hits: []lane.HitView{
			{Kind: "person", RefID: "P-0007", Source: "national", Category: "wanted", Action: "arrest", Score: .97, Strength: "strong", Level: lane.LevelHit,
				Explanation: "name 1.00 (weight 0.60): surname exact | dob 1.00 => strong hit, score 0.97",
				Fields:      []lane.FieldView{{Field: "name", Score: 1, Detail: "PARK=PARK exact; JIWOO=JIWOO exact"}, {Field: "dob", Score: 1, Detail: "exact"}},
				Listed:      &lane.ListedPerson{Surname: "Park", GivenNames: "Ji-woo", Birth: "1998-03-12", Nationality: "KOR", NationalityISO: "KR", Sex: "M"},
				Agreement:   &lane.Agreement{Surname: lane.AgreeExact, GivenNames: lane.AgreeExact, Birth: lane.AgreeSameDay, Nationality: lane.AgreeSame, Sex: lane.AgreeSame},
				Photo:       l.photo("jimin2.jpg"), HasPhoto: true},
			{Kind: "face", RefID: "P-0007", Source: "national", Category: "wanted", Action: "arrest", Score: .9, Distance: .18, Strength: "strong", Level: lane.LevelHit,
				Explanation: "face template at distance 0.180 (threshold 0.21)",
				Listed:      &lane.ListedPerson{Surname: "Park", GivenNames: "Ji-woo", Birth: "1998-03-12", Nationality: "KOR", NationalityISO: "KR", Sex: "M"},
				Agreement:   &lane.Agreement{Surname: lane.AgreeExact, GivenNames: lane.AgreeExact, Birth: lane.AgreeSameDay, Nationality: lane.AgreeSame, Sex: lane.AgreeSame},
				Photo:       l.photo("jimin2.jpg"), HasPhoto: true},
		},
	}
}

func clearTraveller(n int) *traveller {
	names := []struct{ sur, given, nat, sex, photo string }{
		{"CHOI", "SEOYEON", "KOR", "F", "seulgi.jpg"},
		{"LIN", "YUTING", "TWN", "F", "tzuyu.jpg"},
		{"KANG", "MINSEO", "KOR", "F", "yujin.jpg"},
		{"HAN", "JISU", "KOR", "F", "nayoung.jpg"},
	}
	x := names[n%len(names)]
	return &traveller{spec: mrz.Spec{Surname: x.sur, GivenNames: []string{x.given}, DocumentNumber: fmt.Sprintf("C%08d", 1000+n),
		Nationality: x.nat, BirthDate: born(1999+n%5, 1+n%12, 1+n%27), Sex: x.sex}, photo: x.photo}
}

func discreetTraveller(l *pageLane) *traveller {
	return &traveller{
		spec:  mrz.Spec{Surname: "WANG", GivenNames: []string{"MEI"}, DocumentNumber: "E12345678", Nationality: "CHN", BirthDate: born(1997, 11, 4), Sex: "F"},
		photo: "meiqi.jpg",
		hits: []lane.HitView{{Kind: "person", RefID: "P-0042", Source: "national", Category: "foreign_terrorist_fighter", Action: "discreet_check",
			Score: .93, Strength: "strong", Level: lane.LevelHit,
			Listed:    &lane.ListedPerson{Surname: "Wang", GivenNames: "Mei", Birth: "1997-11-04", Nationality: "CHN", NationalityISO: "CN", Sex: "F"},
			Agreement: &lane.Agreement{Surname: lane.AgreeExact, GivenNames: lane.AgreeExact, Birth: lane.AgreeSameDay, Nationality: lane.AgreeSame, Sex: lane.AgreeSame}}},
	}
}

func possibleTraveller(l *pageLane) *traveller {
	return &traveller{
		spec:  mrz.Spec{Surname: "KIM", GivenNames: []string{"HAEUN"}, DocumentNumber: "M55501234", Nationality: "KOR", BirthDate: born(2000, 6, 21), Sex: "F"},
		photo: "bona.jpg",
		hits: []lane.HitView{
			{Kind: "face", RefID: "P-0100", Source: "national", Category: "wanted", Action: "arrest", Score: .7, Distance: .25, Strength: "possible", Level: lane.LevelPossible,
				Listed:    &lane.ListedPerson{Surname: "Yoon", GivenNames: "Seo-a", Birth: "1999", Nationality: "KOR", NationalityISO: "KR", Sex: "F"},
				Agreement: &lane.Agreement{Surname: lane.AgreeDiffers, GivenNames: lane.AgreeDiffers, Birth: lane.AgreeDiffers, Nationality: lane.AgreeSame, Sex: lane.AgreeSame},
				Photo:     l.photo("bona2.jpg"), HasPhoto: true},
			{Kind: "face", RefID: "P-0101", Source: "national", Category: "missing", Action: "alert_only", Score: .65, Distance: .27, Strength: "possible", Level: lane.LevelPossible,
				Listed:    &lane.ListedPerson{Surname: "Lee", GivenNames: "Da-eun", Birth: "2001-02-02", Nationality: "KOR", NationalityISO: "KR", Sex: "F"},
				Agreement: &lane.Agreement{Surname: lane.AgreeDiffers, GivenNames: lane.AgreeDiffers, Birth: lane.AgreeDiffers, Nationality: lane.AgreeSame, Sex: lane.AgreeSame},
				Photo:     l.photo("luda.jpg"), HasPhoto: true},
		},
	}
}
