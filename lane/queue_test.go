package lane

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestPendingSurvivesLaterTravellers: an undecided HIT stays in the work
// queue, with its images, however many travellers pass after it; decided
// ones are bounded and lose their images first.
func TestPendingSurvivesLaterTravellers(t *testing.T) {
	withPhoto := arrestHit
	withPhoto.Hits = []HitView{arrestHit.Hits[0]}
	withPhoto.Hits[0].Photo, withPhoto.Hits[0].HasPhoto = []byte("\xff\xd8ref"), true
	l := newLane(t, Config{MaxHistory: 60, Faces: staticFaces{up: true, fc: FaceCapture{Captured: true, JPEG: []byte("\xff\xd8live")}}},
		withPhoto, nothing)
	hit := l.scan(t)
	first := l.scan(t) // a clear traveller right after
	for range 150 {
		l.scan(t)
	}
	pend := l.p.Pending()
	if len(pend) != 1 || pend[0].ID != hit.ID || !pend[0].Pending {
		t.Fatalf("pending %d, want the HIT", len(pend))
	}
	got := l.p.Transaction(hit.ID)
	if got == nil || len(got.FaceJPEG) == 0 || len(got.Hits[0].Photo) == 0 || !got.Face.HasImage {
		t.Fatal("the pending HIT lost its images")
	}
	if l.p.Transaction(first.ID) != nil {
		t.Fatal("decided transactions beyond MaxHistory are kept")
	}
	all := l.p.History(HistoryQuery{Limit: MaxHistoryAnswer})
	if len(all) != 61 { // 60 settled + the pending HIT
		t.Fatalf("history holds %d, want 61", len(all))
	}
	// Only the newest keep their images.
	old := l.p.Transaction(all[len(all)-2].ID)
	if old == nil || old.FaceJPEG != nil || old.Face.HasImage {
		t.Fatal("an old decided transaction kept its face image")
	}
	if newest := l.p.Recent(1)[0]; len(newest.FaceJPEG) == 0 {
		t.Fatal("the newest transaction has no face image")
	}
	// Decided, the HIT leaves the queue and is kept as history.
	if _, err := l.p.Record(context.Background(), VerdictRequest{TxID: hit.ID, Officer: "o1", Verdict: VerdictConfirmed}); err != nil {
		t.Fatal(err)
	}
	if n := len(l.p.Pending()); n != 0 {
		t.Fatalf("%d pending after the verdict", n)
	}
	h := l.p.History(HistoryQuery{Limit: MaxHistoryAnswer})
	if h[len(h)-1].ID != hit.ID || h[len(h)-1].Verdict != VerdictConfirmed || h[len(h)-1].Pending {
		t.Fatalf("oldest history line %+v", h[len(h)-1])
	}
}

// TestPendingOverflow: past MaxHeld the oldest pending REFERs go, never a
// HIT while REFERs remain.
func TestPendingOverflow(t *testing.T) {
	l := newLane(t, Config{}, arrestHit, possible)
	l.p.maxHeld = 300
	hit := l.scan(t)
	for range 310 {
		l.scan(t)
	}
	if l.p.Transaction(hit.ID) == nil {
		t.Fatal("a pending HIT was dropped while REFERs were held")
	}
	if n := len(l.p.Pending()); n != 300 {
		t.Fatalf("%d pending, want maxHeld", n)
	}
}

func TestHistorySearch(t *testing.T) {
	clock := time.Date(2026, 3, 12, 8, 0, 0, 0, time.UTC)
	l := newLane(t, Config{Now: func() time.Time { return clock }, Discreet: func(h HitView) bool { return h.Action == "discreet_check" }},
		nothing, discreetHit, nothing)
	a := l.scan(t)
	clock = clock.Add(time.Hour)
	b := l.scan(t)
	if !b.Discreet || !b.Hits[0].Discreet || a.Discreet {
		t.Fatalf("discreet flags: a %v, b %v", a.Discreet, b.Discreet)
	}
	for _, tc := range []struct {
		q    HistoryQuery
		want int
	}{
		{HistoryQuery{}, 2},
		{HistoryQuery{Text: "eriksson"}, 2},
		{HistoryQuery{Text: "Anna María"}, 2},     // accents and spaces ignored
		{HistoryQuery{Text: "maria eriksson"}, 2}, // given name first
		{HistoryQuery{Text: "L898902C3"}, 2},
		{HistoryQuery{Text: "l898 902"}, 2},
		{HistoryQuery{Text: "SMITH"}, 0},
		{HistoryQuery{Since: clock}, 1},
		{HistoryQuery{Limit: 1}, 1},
	} {
		got := l.p.History(tc.q)
		if len(got) != tc.want {
			t.Errorf("History(%+v) = %d lines, want %d", tc.q, len(got), tc.want)
		}
	}
	h := l.p.History(HistoryQuery{})
	if h[0].ID != b.ID || !h[0].Discreet || !h[0].Pending || h[0].HitKinds[0] != "person" || h[0].NationalityISO != "" {
		t.Fatalf("newest line %+v", h[0])
	}
}

func TestISO2(t *testing.T) {
	for code, want := range map[string]string{"KOR": "KR", "D": "DE", "D<<": "DE", "TWN": "TW", "UTO": "", "XXA": "", "UNO": "", "": "", "KR": ""} {
		if got := ISO2(code); got != want {
			t.Errorf("ISO2(%q) = %q, want %q", code, got, want)
		}
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"Novák-Svobodová", "NOVAK<SVOBODOVA", "", "\xff\xfe", "محمد"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := fold(s)
		if !utf8.ValidString(out) || strings.ContainsAny(out, " <-'") {
			t.Fatalf("fold(%q) = %q", s, out)
		}
		// Idempotent, within the input bound (decomposing Hangul
		// triples the bytes).
		if len(out) <= 256 && fold(out) != out {
			t.Fatalf("fold not idempotent: %q → %q → %q", s, out, fold(out))
		}
	})
}
