package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxdatatest"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// The "expected arrivals" list on the officer's page, from real
// pre-arrival data: airline passenger lists (PAXLST, as the airline's
// gateway sends them) parsed and screened by package paxdata against a
// real encrypted watchlist, turned into the alert records the hub
// publishes and the unit loads (paxdata.Arrivals), served by the page's
// /api/arrivals.

// expectedBackend is the lane's backend with the unit's pre-arrival set.
type expectedBackend struct {
	*laneBackend
	a *paxdata.Arrivals
}

func (b *expectedBackend) ExpectedArrivals(since time.Time, limit int) []paxdata.ExpectedFlight {
	return b.a.Expected(since, limit)
}

// expectedList is a real watchlist: a stolen passport and two wanted
// persons.
func expectedList(t *testing.T) *watchlist.Store {
	t.Helper()
	dir := t.TempDir()
	kek := filepath.Join(dir, "kek")
	if err := seal.GenerateKeyFile(kek); err != nil {
		t.Fatal(err)
	}
	s, err := watchlist.Open(filepath.Join(dir, "w.db"), seal.FileKey{Path: kek}, watchlist.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p1 := &watchlist.PersonAlert{ID: "P-1", Name: watchlist.Name{Surname: "Kowalczyk", GivenNames: "Anna"}, Birth: "1975-06-01",
		Nationality: "POL", Sex: "F", Category: "wanted", Action: watchlist.ActionArrest, Source: "interpol_red"}
	p2 := &watchlist.PersonAlert{ID: "P-2", Name: watchlist.Name{Surname: "Al-Rashid", GivenNames: "Mohammed Abdulrahman"}, Birth: "1980-12-03",
		Nationality: "SYR", Sex: "M", Category: "wanted", Action: watchlist.ActionArrest, Source: "national"}
	watchlist.FillMRZ(p1)
	watchlist.FillMRZ(p2)
	cs := []watchlist.Change{
		{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: "D-1", Document: &watchlist.DocumentAlert{ID: "D-1", IssuingState: "UTO",
			DocumentType: "P", Number: "L898902C3", Status: "stolen", Source: "SLTD", Action: watchlist.ActionRefer}},
		{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: "P-1", Person: p1},
		{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: "P-2", Person: p2},
	}
	if err := s.ReplaceAll(context.Background(), watchlist.Meta{WatchlistID: "national", Sequence: 3, IssuedAt: time.Now(),
		ExpiresAt: time.Now().Add(48 * time.Hour)}, &watchlist.SliceSource{Changes: cs}); err != nil {
		t.Fatal(err)
	}
	return s
}

// screenFlight parses a generated PAXLST and screens it, as the hub does,
// and returns the alert record its port channel would carry.
func screenFlight(t *testing.T, s *watchlist.Store, f paxdatatest.Flight, pax []paxdata.Traveller) (bundle.Record, *paxdata.Report) {
	t.Helper()
	res, err := paxdata.Parse(paxdatatest.PAXLST(f, pax, "M"+f.Number), paxdata.ParseOptions{})
	if err != nil || len(res.Manifests) != 1 {
		t.Fatalf("parse: %v %q", err, res.ErrorStrings())
	}
	r, err := (&paxdata.Screener{Watchlist: s, ScreenedBy: "HQ"}).Screen(context.Background(), res.Manifests[0])
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Alerts().Record(f.ArrivalAt.Add(6 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return rec, r
}

// expectedLane is a page lane whose unit expects two screened flights:
// XX0456 later with nobody flagged, XX0123 sooner with three hits (a
// stolen passport, a wanted person, the other wanted person under another
// spelling).
func expectedLane(t *testing.T) (*pageLane, []*paxdata.Report) {
	t.Helper()
	l := newPageLane(t, false)
	wl := expectedList(t)
	now := time.Now().Truncate(time.Minute)
	pax := paxdatatest.Travellers(40, 3)
	pax[5].DocumentNumber, pax[5].IssuingState = "L898902C3", "UTO"
	pax[12].Surname, pax[12].GivenNames, pax[12].BirthDate, pax[12].Nationality, pax[12].Sex = "KOWALCZYK", "ANNA", "1975-06-01", "POL", "F"
	pax[12].Seat = "14C"
	pax[30].Surname, pax[30].GivenNames, pax[30].BirthDate, pax[30].Nationality, pax[30].Sex = "ALRASHID", "MUHAMMAD ABDUL RAHMAN", "1980-12-03", "SYR", "M"
	soon, r1 := screenFlight(t, wl, paxdatatest.Flight{Carrier: "XX", Number: "0123", Departure: "JFK", Arrival: "LHR",
		DepartureAt: now.Add(-5 * time.Hour), ArrivalAt: now.Add(2 * time.Hour)}, pax)
	later, r2 := screenFlight(t, wl, paxdatatest.Flight{Carrier: "XX", Number: "0456", Departure: "CDG", Arrival: "LHR",
		DepartureAt: now.Add(time.Hour), ArrivalAt: now.Add(3 * time.Hour)}, paxdatatest.Travellers(25, 4))
	if r1.Counts.Hits != 3 || len(r2.Flagged) != 0 {
		t.Fatalf("screening: %+v flagged %d; %+v flagged %d", r1.Counts, len(r1.Flagged), r2.Counts, len(r2.Flagged))
	}
	a := paxdata.NewArrivals(nil)
	a.LoadLocal([]bundle.Record{later, soon})

	lb := l.s.b.(*laneBackend)
	l.s = New(&expectedBackend{laneBackend: lb, a: a}, l.s.opt)
	l.srv = httptest.NewServer(l.s)
	t.Cleanup(l.srv.Close)
	return l, []*paxdata.Report{r1, r2}
}

type expectedRow struct {
	Flight, Class, Text string
	Flagged             []string
}

func expectedRows(t *testing.T, ctx context.Context) []expectedRow {
	t.Helper()
	return eval[[]expectedRow](t, ctx, `[...document.querySelectorAll("#expected-list > li")].map((li) => ({
		Flight: li.dataset.flight, Class: li.className, Text: li.innerText,
		Flagged: [...li.querySelectorAll("ul li")].map((x) => x.className + "|" + x.innerText)}))`)
}

func TestExpectedArrivalsPanel(t *testing.T) {
	l, reports := expectedLane(t)
	r1, r2 := reports[0], reports[1]
	cat := map[string]Catalogue{}
	for _, lang := range []string{"en", "ar"} {
		c, err := LoadCatalogue(lang)
		if err != nil {
			t.Fatal(err)
		}
		cat[lang] = c
	}
	tr := clearTraveller(1)
	tr.photo = ""
	tx := l.scan(tr)
	for _, sc := range []struct {
		name, officer, pin, lang string
		w, h                     int64
	}{
		{"en-1366x768", "o1", "246810", "en", 1366, 768},
		{"ar-1024x600", "o2", "135790", "ar", 1024, 600},
	} {
		t.Run(sc.name, func(t *testing.T) {
			ctx := tab(t, sc.w, sc.h)
			w, h := float64(sc.w), float64(sc.h)
			signIn(t, ctx, l, sc.officer, sc.pin)
			// The traveller at the desk (a REFER: no face captured) waits
			// for a verdict behind the list.
			onScreen(t, ctx, tx.ID)
			c := cat[sc.lang]

			// Closed by default, the button in the bar with its badge:
			// three flagged travellers, at least one a hit.
			waitFor(t, ctx, "the arrivals button", `!document.getElementById("btn-expected").hidden`)
			if !eval[bool](t, ctx, `document.getElementById("expected").hidden`) {
				t.Fatal("the expected arrivals list is open before the officer asks")
			}
			if got := textOf(t, ctx, "expected-count"); got != "3" || !eval[bool](t, ctx, `document.getElementById("expected-count").classList.contains("hit")`) {
				t.Errorf("badge %q (%s)", got, eval[string](t, ctx, `document.getElementById("expected-count").className`))
			}
			inViewport(t, ctx, "#btn-expected", w, h)
			// The one-screen essentials stay where they were.
			for _, sel := range []string{"#banner", "#action", "#fig-live", "#fig-ref", "#btn-confirm"} {
				if sel == "#action" {
					continue // empty for a CLEAR traveller
				}
				inViewport(t, ctx, sel, w, h)
			}

			press(t, ctx, "a")
			waitFor(t, ctx, "the expected arrivals list", `!document.getElementById("expected").hidden && document.querySelectorAll("#expected-list > li").length === 2`)
			inViewport(t, ctx, ".expected-box", w, h)
			if got := textOf(t, ctx, "expected-title"); got != c["expected.title"] {
				t.Errorf("title %q, want %q", got, c["expected.title"])
			}
			rows := expectedRows(t, ctx)
			// Soonest first.
			if rows[0].Flight != "XX0123" || rows[1].Flight != "XX0456" {
				t.Fatalf("flights %q, %q", rows[0].Flight, rows[1].Flight)
			}
			if rows[0].Class != "hit" || rows[1].Class != "" {
				t.Errorf("classes %q %q", rows[0].Class, rows[1].Class)
			}
			counts := func(r *paxdata.Report) string {
				return fill(c["expected.counts"], map[string]string{"passengers": fmt.Sprint(r.Counts.Passengers), "crew": fmt.Sprint(r.Counts.Crew),
					"screened": fmt.Sprint(r.Counts.Screened)})
			}
			if !contains(rows[0].Text, counts(r1), fill(c["expected.flagged"], map[string]string{"hits": "3", "possible": "0"}), "HQ", "JFK") {
				t.Errorf("first flight %q, want %q", rows[0].Text, counts(r1))
			}
			if !contains(rows[1].Text, counts(r2), c["expected.nobody"], "CDG") || len(rows[1].Flagged) != 0 {
				t.Errorf("second flight %q %q", rows[1].Text, rows[1].Flagged)
			}
			// The flagged travellers, in words: who, why, what to do.
			if len(rows[0].Flagged) != 3 {
				t.Fatalf("flagged %q", rows[0].Flagged)
			}
			all := strings.Join(rows[0].Flagged, "\n")
			for _, want := range []string{"KOWALCZYK Anna", "ALRASHID Muhammad Abdul Rahman", "L898902C3",
				fill(c["expected.seat"], map[string]string{"seat": "14C"}),
				fill(c["expected.why_person"], map[string]string{"category": c["category.wanted"]}),
				fill(c["expected.why_document"], map[string]string{"status": c["status.stolen"]}),
				c["action.arrest"], c["decision.HIT"]} {
				if !strings.Contains(all, want) {
					t.Errorf("flagged travellers lack %q:\n%s", want, all)
				}
			}
			for _, f := range rows[0].Flagged {
				if !strings.HasPrefix(f, "hit|") {
					t.Errorf("flagged %q is not a hit", f)
				}
			}
			// Words, not scores or the matcher's explanation.
			if strings.Contains(all, "0.") || strings.Contains(all, "score") || strings.Contains(all, "weight") {
				t.Errorf("the list shows scores:\n%s", all)
			}
			if sc.lang == "ar" {
				if dir := eval[string](t, ctx, `document.documentElement.dir`); dir != "rtl" {
					t.Errorf("dir %q", dir)
				}
				for _, en := range []string{"passengers", "screened", "Expected", "wanted", "stolen", "born"} {
					if strings.Contains(rows[0].Text+rows[1].Text+textOf(t, ctx, "expected"), en) {
						t.Errorf("English %q in the Arabic list", en)
					}
				}
			}
			shot(t, ctx, "expected-arrivals-"+sc.name+".png")

			// Verdict keys do nothing while the list is open; Esc closes it
			// and the lane is as it was.
			press(t, ctx, "k")
			if eval[bool](t, ctx, `document.getElementById("picker").hidden === false`) || len(l.verdicts()) != 0 {
				t.Error("a verdict key acted behind the open list")
			}
			press(t, ctx, kb.Escape)
			waitFor(t, ctx, "the list closed", `document.getElementById("expected").hidden`)
			inViewport(t, ctx, "#banner", w, h)
			inViewport(t, ctx, "#btn-confirm", w, h)

			// The old /arrivals address opens the page with the list open.
			if err := chromedp.Do(ctx, chromedp.Navigate(l.srv.URL+"/arrivals")); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, "the list from /arrivals", `location.hash === "#arrivals" && !document.getElementById("expected").hidden && document.querySelectorAll("#expected-list > li").length === 2`)
		})
	}
}

// fill puts params into a catalogue message, as the page's t() does.
func fill(m string, params map[string]string) string {
	for k, v := range params {
		m = strings.ReplaceAll(m, "{"+k+"}", v)
	}
	return m
}
