package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/lane"
)

// The officer's page in a real browser, driven as an officer does: by
// keys, at the screen sizes of the desk (1366×768) and the kiosk
// (1024×600).

var screens = []struct {
	name string
	w, h int64
}{
	{"1366x768", 1366, 768},
	{"1024x600", 1024, 600},
}

// TestEssentialsFitTheScreen: on a HIT the decision, the action, both
// photos and the verdict keys are inside the viewport without scrolling,
// at both sizes, and nothing scrolls the page.
func TestEssentialsFitTheScreen(t *testing.T) {
	t.Parallel()
	l := newPageLane(t, false)
	for _, sc := range screens {
		t.Run(sc.name, func(t *testing.T) {
			ctx := tab(t, sc.w, sc.h)
			signIn(t, ctx, l, "o1", "246810")
			// A few clear travellers, then the wanted one.
			for i := range 3 {
				l.scan(clearTraveller(i))
			}
			hit := l.scan(wantedTraveller(l))
			onScreen(t, ctx, hit.ID)
			waitFor(t, ctx, "both photos", `document.getElementById("face-live").complete && document.getElementById("face-live").naturalWidth > 0 && document.getElementById("face-ref").complete && document.getElementById("face-ref").naturalWidth > 0`)
			w, h := float64(sc.w), float64(sc.h)
			for _, sel := range []string{"#banner", "#decision", "#action", "#face-live", "#face-ref", "#btn-confirm", "#btn-fp", "#btn-refer", "#btn-clear", "#verdict-status", "#pending li.on"} {
				inViewport(t, ctx, sel, w, h)
			}
			if got := textOf(t, ctx, "decision"); got != "HIT" {
				t.Errorf("decision %q", got)
			}
			if got := textOf(t, ctx, "action"); got != "ARREST" {
				t.Errorf("action %q", got)
			}
			if y := eval[float64](t, ctx, `window.scrollY + document.scrollingElement.scrollTop`); y != 0 {
				t.Errorf("page scrolled by %v on a HIT", y)
			}
			if over := eval[bool](t, ctx, `document.scrollingElement.scrollHeight > window.innerHeight + 1`); over {
				t.Errorf("the page is taller than the screen: %v > %v", eval[float64](t, ctx, `document.scrollingElement.scrollHeight`), h)
			}
			plain := textOf(t, ctx, "plain")
			for _, want := range []string{
				"Name matches listed person PARK Ji-woo (surname exact, given name exact), born same day, same nationality.",
				"Face matches listed person PARK Ji-woo.",
				"Face similarity: strong",
			} {
				if !strings.Contains(plain, want) {
					t.Errorf("explanation lacks %q:\n%s", want, plain)
				}
			}
			if strings.Contains(plain, "weight") || strings.Contains(plain, "distance") || strings.Contains(plain, "wanted") {
				t.Errorf("engineering text on the officer's screen:\n%s", plain)
			}
			shot(t, ctx, fmt.Sprintf("officer-hit-%s.png", sc.name))
			// The technical detail is one click away.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#tech summary"))); err != nil {
				t.Fatal(err)
			}
			if tech := textOf(t, ctx, "tech-body"); !strings.Contains(tech, "distance 0.180") || !strings.Contains(tech, "P-0007") {
				t.Errorf("technical detail: %q", tech)
			}
			inViewport(t, ctx, "#banner", w, h)
			inViewport(t, ctx, "#btn-confirm", w, h)
			// Decide, so the next size starts with an empty queue.
			press(t, ctx, "c")
			waitFor(t, ctx, "the verdict", `document.getElementById("verdict-status").innerText.includes("hit confirmed")`)
		})
	}
}

// verdictFor returns the outbox's officer decisions for transaction id.
func verdictsFor(l *pageLane, id string) []map[string]any {
	var out []map[string]any
	for _, v := range l.verdicts() {
		if v["tx_id"] == id {
			out = append(out, v)
		}
	}
	return out
}

func pendingCount(t *testing.T, ctx context.Context) int {
	return eval[int](t, ctx, `document.querySelectorAll("#pending li").length`)
}

// TestWorkQueue: every HIT and REFER stays "action required" until
// decided, through later travellers and a reload; the officer moves
// between items; no single key dismisses a HIT.
func TestWorkQueue(t *testing.T) {
	t.Parallel()
	l := newPageLane(t, false)
	ctx := tab(t, 1366, 768)
	signIn(t, ctx, l, "o1", "246810")
	hit := l.scan(wantedTraveller(l))
	onScreen(t, ctx, hit.ID)
	var last *lane.Transaction
	for i := range 2 {
		last = l.scan(clearTraveller(i))
	}
	// The page follows the lane to the newest traveller; the HIT waits.
	onScreen(t, ctx, last.ID)
	if n := pendingCount(t, ctx); n != 1 {
		t.Fatalf("%d items waiting, want the HIT", n)
	}
	if got := textOf(t, ctx, "queue"); !contains(got, "HIT", "ARREST", "PARK Jiwoo") {
		t.Fatalf("queue: %q", got)
	}
	shot(t, ctx, "officer-queue.png")

	// Up: to the waiting HIT.
	press(t, ctx, kb.ArrowUp)
	onScreen(t, ctx, hit.ID)
	if v := textOf(t, ctx, "viewing"); !strings.Contains(v, "Waiting item 1 of 1") {
		t.Fatalf("viewing line %q", v)
	}
	// K on a HIT asks for a reason; Enter does nothing; Esc cancels.
	press(t, ctx, "k")
	waitFor(t, ctx, "the reason list", `!document.getElementById("picker").hidden`)
	if got := textOf(t, ctx, "picker"); !contains(got, "A HIT is cleared only with a reason", "1 Different person") {
		t.Fatalf("picker: %q", got)
	}
	press(t, ctx, kb.Escape)
	press(t, ctx, "\r")
	waitFor(t, ctx, "the reason list to close", `document.getElementById("picker").hidden`)
	if n := len(verdictsFor(l, hit.ID)); n != 0 {
		t.Fatalf("%d verdicts recorded by K, Esc and Enter on a HIT", n)
	}
	// F, then a reason: recorded, with the reason.
	press(t, ctx, "f")
	waitFor(t, ctx, "the reason list", `!document.getElementById("picker").hidden`)
	press(t, ctx, "1")
	waitFlash(t, ctx, "Recorded: not this person")
	v := verdictsFor(l, hit.ID)
	if len(v) != 1 || v[0]["verdict"] != "false_positive" || v[0]["reason"] != "different_person" || v[0]["officer"] != "o1" {
		t.Fatalf("outbox verdicts %v", v)
	}
	// Nothing left: back to the live lane.
	onScreen(t, ctx, last.ID)
	if n := pendingCount(t, ctx); n != 0 {
		t.Fatalf("%d items waiting after the verdict", n)
	}

	// Two more that need action, then 60 travellers: the lane keeps them,
	// and so does the page, across a reload.
	refer := l.scan(possibleTraveller(l))
	hit2 := l.scan(wantedTraveller(l))
	for i := range 60 {
		l.scan(clearTraveller(i))
	}
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("#h-scanner.good")),
		// A reload resets the page's guard time to its 700 ms default;
		// press() waits only the tests' shorter one.
		chromedp.Evaluate[chromedp.Void](`guardMs = 100`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "two waiting items after the reload", `document.querySelectorAll("#pending li").length === 2`)
	// After a reload the oldest waiting item comes first.
	onScreen(t, ctx, refer.ID)
	press(t, ctx, kb.ArrowDown)
	onScreen(t, ctx, hit2.ID)
	shot(t, ctx, "officer-queue-after-reload.png")
	press(t, ctx, "c")
	waitFlash(t, ctx, "Recorded: hit confirmed")
	if v := verdictsFor(l, hit2.ID); len(v) != 1 || v[0]["verdict"] != "confirmed" {
		t.Fatalf("verdicts of the second HIT %v", v)
	}
	// The REFER is still waiting; the page moved on to it.
	onScreen(t, ctx, refer.ID)
	if n := pendingCount(t, ctx); n != 1 {
		t.Fatalf("%d waiting", n)
	}
}

// TestKeysThatCannotHurt: keys while a check runs or as the screen changes
// are refused visibly and land on no one; a verdict is changed only with a
// reason, and both stay on record; refusals by the server are shown.
func TestKeysThatCannotHurt(t *testing.T) {
	t.Parallel()
	l := newPageLane(t, false)
	ctx := tab(t, 1366, 768)
	signIn(t, ctx, l, "o1", "246810")

	// A slow check: the page says CHECKING…; C is refused, visibly.
	tr := wantedTraveller(l)
	tr.hold = make(chan struct{})
	done := l.start(tr)
	waitFor(t, ctx, "CHECKING…", `document.getElementById("decision").innerText === "CHECKING…"`)
	press(t, ctx, "c")
	waitFlash(t, ctx, "Still checking this traveller: the key was NOT applied")
	shot(t, ctx, "officer-key-while-checking.png")
	close(tr.hold)
	hit, err := done()
	if err != nil {
		t.Fatal(err)
	}
	onScreen(t, ctx, hit.ID)
	if n := len(verdictsFor(l, hit.ID)); n != 0 {
		t.Fatalf("a key pressed while checking was recorded (%d verdicts)", n)
	}

	// A key in the instant the screen changes is refused too.
	eval[bool](t, ctx, `(guardMs = 60000, true)`)
	next := l.scan(clearTraveller(1))
	onScreen(t, ctx, next.ID)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("k")); err != nil {
		t.Fatal(err)
	}
	waitFlash(t, ctx, "The screen just changed: the key was NOT applied")
	eval[bool](t, ctx, `(guardMs = 100, true)`)
	if n := len(verdictsFor(l, next.ID)); n != 0 {
		t.Fatalf("a key pressed as the screen changed was recorded")
	}

	// Confirm the HIT from the queue, then, found again in the shift's
	// history, change the verdict: E, the new verdict, a dismissal reason,
	// a reason for the change.
	press(t, ctx, kb.ArrowUp)
	onScreen(t, ctx, hit.ID)
	press(t, ctx, "c")
	waitFlash(t, ctx, "Recorded: hit confirmed")
	onScreen(t, ctx, next.ID)
	press(t, ctx, "h")
	waitFor(t, ctx, "the history", `!document.getElementById("history").hidden`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("history-q"), "park")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the HIT in the history", `document.querySelectorAll("#history-list li").length === 1 && document.getElementById("history-list").innerText.includes("hit confirmed")`)
	press(t, ctx, "\r")
	onScreen(t, ctx, hit.ID)
	press(t, ctx, "c")
	waitFlash(t, ctx, "Already recorded: hit confirmed. Press E to change it.")
	press(t, ctx, "e")
	waitFor(t, ctx, "change mode", `document.getElementById("verdict-status").innerText.includes("Changing")`)
	press(t, ctx, "f")
	waitFor(t, ctx, "the dismissal reasons", `document.getElementById("picker-title").innerText.includes("Why is this HIT not the traveller")`)
	press(t, ctx, "2")
	waitFor(t, ctx, "the change reasons", `document.getElementById("picker-title").innerText.includes("Change hit confirmed to not this person")`)
	shot(t, ctx, "officer-change-verdict.png")
	press(t, ctx, "1")
	waitFlash(t, ctx, "Recorded: not this person")
	waitFor(t, ctx, "the changed status", `document.getElementById("verdict-status").innerText.includes("changed 1 time(s)")`)
	v := verdictsFor(l, hit.ID)
	if len(v) != 2 || v[0]["verdict"] != "confirmed" || v[1]["verdict"] != "false_positive" || v[1]["reason"] != "different_document" ||
		v[1]["supersedes"] != v[0]["id"] || v[1]["change_reason"] != "wrong_key" {
		t.Fatalf("outbox verdicts %v", v)
	}
	// Both in the audit log.
	var audited []string
	for _, e := range auditEntries(t, l) {
		if e.Kind == "officer_decision" && e.Fields["tx"] == hit.ID {
			audited = append(audited, e.Action+" supersedes="+e.Fields["supersedes"])
		}
	}
	if len(audited) != 2 || audited[1] != "false_positive supersedes="+v[0]["id"].(string) {
		t.Fatalf("audit %v", audited)
	}

	// Another officer's page, where the HIT was on screen too: its verdict
	// is refused and the officer is told.
	press(t, ctx, "l") // back to the live lane
	hit3 := l.scan(wantedTraveller(l))
	ctx2 := tab(t, 1366, 768)
	signIn(t, ctx2, l, "o3", "975310")
	onScreen(t, ctx, hit3.ID)
	onScreen(t, ctx2, hit3.ID)
	press(t, ctx, "c")
	waitFlash(t, ctx, "Recorded: hit confirmed")
	// The other page heard of the verdict and says so...
	waitFor(t, ctx2, "the first officer's verdict", `document.getElementById("verdict-status").innerText.includes("alerte confirmée par o1")`)
	press(t, ctx2, "r")
	waitFlash(t, ctx2, "Déjà enregistré : alerte confirmée. Tapez E pour modifier.")
	// ...and had it not heard, the unit refuses, and the page says so.
	eval[bool](t, ctx2, fmt.Sprintf(`(send({id: %q}, {verdict: "referred"}), true)`, hit3.ID))
	waitFlash(t, ctx2, "NON ENREGISTRÉ : une décision a déjà été enregistrée")
	if n := len(verdictsFor(l, hit3.ID)); n != 1 {
		t.Fatalf("%d verdicts on one HIT from two officers", n)
	}
	// A transaction the lane no longer holds: refused, visibly.
	eval[bool](t, ctx, `(send({id: "20260101T000000-0000000000000000"}, {verdict: "referred"}), true)`)
	waitFlash(t, ctx, "NOT RECORDED: this traveller is no longer held at the lane.")
}

func auditEntries(t *testing.T, l *pageLane) []audit.Entry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// TestDiscreetCheck: the officer sees a discreet check clearly; the
// screen does not shout it: no red banner, no category in words, no sound.
func TestDiscreetCheck(t *testing.T) {
	t.Parallel()
	l := newPageLane(t, true)
	for _, sc := range screens {
		t.Run(sc.name, func(t *testing.T) {
			ctx := tab(t, sc.w, sc.h)
			signIn(t, ctx, l, "o1", "246810")
			tx := l.scan(discreetTraveller(l))
			onScreen(t, ctx, tx.ID)
			inViewport(t, ctx, "#banner", float64(sc.w), float64(sc.h))
			if got := textOf(t, ctx, "banner"); !contains(got, "Discreet check", "do not alert the traveller") || strings.Contains(got, "HIT") {
				t.Fatalf("banner %q", got)
			}
			bg := eval[string](t, ctx, `getComputedStyle(document.getElementById("banner")).backgroundColor`)
			if bg == "rgb(208, 2, 27)" {
				t.Fatalf("discreet check in a red banner")
			}
			if size := eval[float64](t, ctx, `parseFloat(getComputedStyle(document.getElementById("decision")).fontSize)`); size > 30 {
				t.Errorf("discreet check in %vpx letters", size)
			}
			if body := strings.ToLower(eval[string](t, ctx, `document.body.innerText`)); strings.Contains(body, "terrorist") {
				t.Fatalf("the word terrorist is on screen:\n%s", body)
			}
			if got := textOf(t, ctx, "plain"); !strings.Contains(strings.ToLower(got), "listed person (discreet)") || !strings.Contains(got, "Name matches listed person WANG Mei") {
				t.Fatalf("explanation %q", got)
			}
			if n := eval[string](t, ctx, `document.body.dataset.sounds || "0"`); n != "0" {
				t.Fatalf("%s tones for a discreet check", n)
			}
			shot(t, ctx, "officer-discreet-"+sc.name+".png")
			press(t, ctx, "r")
			waitFlash(t, ctx, "Recorded: referred to second line")
			// An open HIT sounds.
			hit := l.scan(wantedTraveller(l))
			onScreen(t, ctx, hit.ID)
			waitFor(t, ctx, "one tone", `document.body.dataset.sounds === "1"`)
			press(t, ctx, "c")
			waitFlash(t, ctx, "Recorded: hit confirmed")
		})
	}
}

// TestArabic: an officer whose account says Arabic gets the page right to
// left, in Arabic, at both sizes; the keys work whatever the layout.
func TestArabic(t *testing.T) {
	t.Parallel()
	l := newPageLane(t, false)
	for _, sc := range screens {
		t.Run(sc.name, func(t *testing.T) {
			ctx := tab(t, sc.w, sc.h)
			signIn(t, ctx, l, "o2", "135790")
			waitFor(t, ctx, "right to left", `document.documentElement.dir === "rtl" && document.documentElement.lang === "ar"`)
			hit := l.scan(wantedTraveller(l))
			onScreen(t, ctx, hit.ID)
			w, h := float64(sc.w), float64(sc.h)
			for _, sel := range []string{"#banner", "#face-live", "#face-ref", "#btn-confirm", "#btn-fp"} {
				inViewport(t, ctx, sel, w, h)
			}
			if got := textOf(t, ctx, "decision"); got != "إنذار" {
				t.Fatalf("decision %q", got)
			}
			if got := textOf(t, ctx, "action"); got != "توقيف" {
				t.Fatalf("action %q", got)
			}
			// The work queue sits on the right, the photos read right to left.
			if q, b := box(t, ctx, "#queue"), box(t, ctx, "#work"); q.Left < b.Right-1 {
				t.Fatalf("queue at %+v, work at %+v: not right to left", q, b)
			}
			if live, ref := box(t, ctx, "#fig-live"), box(t, ctx, "#fig-ref"); live.Left < ref.Left {
				t.Fatalf("live photo left of the listed one in Arabic")
			}
			if doc := textOf(t, ctx, "doc-fields"); !contains(doc, "12 مارس 1998", "PARK Jiwoo", "ذكر") {
				t.Fatalf("document %q", doc)
			}
			if plain := textOf(t, ctx, "plain"); !contains(plain, "الاسم يطابق الشخص المدرج", "اسم العائلة مطابق", "مولود في اليوم نفسه", "تشابه الوجه: قوي") {
				t.Fatalf("explanation %q", plain)
			}
			shot(t, ctx, "officer-arabic-"+sc.name+".png")
			press(t, ctx, "c")
			waitFlash(t, ctx, "سُجّل: إنذار مؤكد")
			if v := verdictsFor(l, hit.ID); len(v) != 1 || v[0]["verdict"] != "confirmed" || v[0]["officer"] != "o2" {
				t.Fatalf("verdicts %v", v)
			}
		})
	}
}

// TestPossibleMatches: possible face matches are a candidate review: each
// candidate's photo beside the live capture, similarity in words, judged
// one by one, recorded like any verdict.
func TestPossibleMatches(t *testing.T) {
	t.Parallel()
	l := newPageLane(t, false)
	ctx := tab(t, 1366, 768)
	signIn(t, ctx, l, "o1", "246810")
	tx := l.scan(possibleTraveller(l))
	if tx.Decision != lane.Refer {
		t.Fatalf("decision %s", tx.Decision)
	}
	onScreen(t, ctx, tx.ID)
	waitFor(t, ctx, "the candidates", `!document.getElementById("candidates").hidden && document.querySelectorAll("#cand-list li").length === 2`)
	if got := textOf(t, ctx, "banner"); !contains(got, "REFER", "Possible match: judge the candidates") {
		t.Fatalf("banner %q", got)
	}
	if got := textOf(t, ctx, "cand-list"); !contains(got, "YOON Seo-a", "Face resembles listed person YOON Seo-a, although the passport is in another name.", "Face similarity: possible", "born 1999") {
		t.Fatalf("explanation %q", got)
	}
	src := func() string { return eval[string](t, ctx, `document.getElementById("face-ref").getAttribute("src")`) }
	if s := src(); !strings.HasSuffix(s, "/hits/0/photo.jpg") {
		t.Fatalf("listed photo %q, want the first candidate's", s)
	}
	inViewport(t, ctx, "#face-live", 1366, 768)
	inViewport(t, ctx, "#face-ref", 1366, 768)
	shot(t, ctx, "officer-possible-match.png")
	press(t, ctx, "x") // the first is not the traveller
	waitFor(t, ctx, "the second candidate", `document.getElementById("face-ref").getAttribute("src").endsWith("/hits/1/photo.jpg")`)
	if n := len(verdictsFor(l, tx.ID)); n != 0 {
		t.Fatal("recorded before every candidate was judged")
	}
	press(t, ctx, "c") // the second is
	waitFlash(t, ctx, "Recorded: hit confirmed")
	v := verdictsFor(l, tx.ID)
	if len(v) != 1 || v[0]["verdict"] != "confirmed" || v[0]["machine_decision"] != "REFER" {
		t.Fatalf("verdicts %v", v)
	}
	cands, _ := v[0]["candidates"].([]any)
	if len(cands) != 2 {
		t.Fatalf("candidates %v", v[0]["candidates"])
	}
	c0, c1 := cands[0].(map[string]any), cands[1].(map[string]any)
	if c0["ref_id"] != "P-0100" || c0["verdict"] != "not_same" || c1["ref_id"] != "P-0101" || c1["verdict"] != "same_person" {
		t.Fatalf("candidates %v", cands)
	}
}

// TestHistoryAndHandover: the shift's history searched by name and
// document; a verdict with a note; the hand-over sheet prints what the
// second line needs and no more.
func TestHistoryAndHandover(t *testing.T) {
	t.Parallel()
	l := newPageLane(t, false)
	ctx := tab(t, 1366, 768)
	signIn(t, ctx, l, "o1", "246810")
	for i := range 4 {
		l.scan(clearTraveller(i))
	}
	hit := l.scan(wantedTraveller(l))
	onScreen(t, ctx, hit.ID)
	press(t, ctx, "n")
	if err := chromedp.Do(ctx, chromedp.KeyEvent("Says he has never been to the listed country"), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	press(t, ctx, "r")
	waitFlash(t, ctx, "Recorded: referred to second line")
	if v := verdictsFor(l, hit.ID); len(v) != 1 || v[0]["note"] != "Says he has never been to the listed country" {
		t.Fatalf("verdict %v", v)
	}
	for _, e := range auditEntries(t, l) {
		for _, f := range e.Fields {
			if strings.Contains(f, "never been") {
				t.Fatal("the note is in the audit log")
			}
		}
	}

	// History: search by name, then by document number.
	press(t, ctx, "h")
	waitFor(t, ctx, "the history", `!document.getElementById("history").hidden && document.querySelectorAll("#history-list li").length === 5`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("history-q"), "lin yu")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "one match", `document.querySelectorAll("#history-list li").length === 1 && document.getElementById("history-list").innerText.includes("LIN Yuting")`)
	shot(t, ctx, "officer-history.png")
	eval[bool](t, ctx, `(document.getElementById("history-q").value = "", true)`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("history-q"), "M70412345")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the HIT by document number", `document.querySelectorAll("#history-list li").length === 1 && document.getElementById("history-list").innerText.includes("referred to second line")`)
	press(t, ctx, "\r")
	onScreen(t, ctx, hit.ID)

	// The hand-over sheet. The browser's print dialog cannot be driven
	// headless: the page's call to it is counted, and the sheet printed to
	// PDF with the print style sheet.
	eval[bool](t, ctx, `(window.print = () => { window.printed = (window.printed || 0) + 1; }, true)`)
	press(t, ctx, "p")
	waitFor(t, ctx, "the sheet", `document.getElementById("handover").innerText.length > 0 && window.printed === 1`)
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	sheet := eval[string](t, ctx, `document.getElementById("handover").innerText`)
	for _, want := range []string{"Referral to the second line", "PARK Jiwoo", "12 MAR 1998", "M70412345", "ARREST", "P-0007", "referred to second line", "Says he has never been", "desk-01", hit.ID} {
		if !strings.Contains(sheet, want) {
			t.Errorf("hand-over sheet lacks %q:\n%s", want, sheet)
		}
	}
	// No more than the referral needs: no photos, scores, distances, the
	// matcher's explanation or the listed person's own details.
	for _, not := range []string{"Ji-woo", "distance", "score", "weight", "Face similarity", "quality"} {
		if strings.Contains(sheet, not) {
			t.Errorf("hand-over sheet holds %q:\n%s", not, sheet)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#handover img").length`); n != 0 {
		t.Errorf("%d images on the hand-over sheet", n)
	}
	if vis := eval[bool](t, ctx, `getComputedStyle(document.getElementById("main")).display === "none" && getComputedStyle(document.getElementById("bar")).display === "none" && getComputedStyle(document.getElementById("handover")).display === "block"`); !vis {
		t.Error("print shows more than the sheet")
	}
	shot(t, ctx, "officer-handover-print.png")
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifactsDir(t), "officer-handover.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestChipPanel: the chip's photo beside the live face and the listed
// photo, with its line in words, on one screen at both sizes; a chip that
// fails makes a REFER said in words.
func TestChipPanel(t *testing.T) {
	t.Parallel()
	l := newPageLane(t, false)
	genuine := &lane.ChipResult{View: lane.ChipView{State: lane.ChipRead, Verdict: "genuine", Line: "chip genuine", Access: "PACE",
		PassiveAuth: "valid", ActiveAuth: "ok", Consistent: true}, Descriptor: []float32{0.1, 0.2, 0.3}, ModelID: "test-model", Quality: .7}
	failed := &lane.ChipResult{View: lane.ChipView{State: lane.ChipRead, Verdict: "failed", Integrity: true, Line: "chip FAILED: DG1 does not match the signed hash",
		Access: "BAC", PassiveAuth: "invalid", PAStep: "dg_hash", FailedGroups: []int{1}}, Descriptor: []float32{0.9, 0.9, 0.9}, ModelID: "test-model", Quality: .6}
	for _, sc := range screens {
		t.Run(sc.name, func(t *testing.T) {
			ctx := tab(t, sc.w, sc.h)
			signIn(t, ctx, l, "o1", "246810")
			tr := wantedTraveller(l)
			tr.chip, tr.chipPhoto = genuine, "jimin6.jpg"
			hit := l.scan(tr)
			onScreen(t, ctx, hit.ID)
			waitFor(t, ctx, "the chip photo", `!document.getElementById("chip-panel").hidden && document.getElementById("chip-photo").naturalWidth > 0`)
			w, h := float64(sc.w), float64(sc.h)
			for _, sel := range []string{"#chip-panel", "#chip-photo", "#face-live", "#face-ref", "#banner", "#btn-confirm", "#btn-clear"} {
				inViewport(t, ctx, sel, w, h)
			}
			if got := textOf(t, ctx, "chip-status"); got != "Chip photo · chip genuine · live face matches the chip photo" {
				t.Errorf("chip line %q", got)
			}
			shot(t, ctx, "officer-chip-genuine-"+sc.name+".png")
			press(t, ctx, "c")
			waitFlash(t, ctx, "Recorded: hit confirmed")

			tr = clearTraveller(2)
			tr.chip, tr.chipPhoto = failed, "chaeyoung.jpg"
			ref := l.scan(tr)
			if ref.Decision != lane.Refer {
				t.Fatalf("a failed chip: %s %v", ref.Decision, ref.Reasons)
			}
			onScreen(t, ctx, ref.ID)
			waitFor(t, ctx, "the chip line", `document.getElementById("chip-status").className === "failed"`)
			if got := textOf(t, ctx, "chip-status"); got != "Chip photo · chip FAILED · live face does NOT match the chip photo" {
				t.Errorf("chip line %q", got)
			}
			if got := textOf(t, ctx, "reasons"); !strings.Contains(got, "The chip shows the document was altered or copied") {
				t.Errorf("reasons %q", got)
			}
			shot(t, ctx, "officer-chip-failed-"+sc.name+".png")
			press(t, ctx, "r")
			waitFlash(t, ctx, "Recorded: referred to second line")
		})
	}
}
