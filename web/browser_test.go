package web

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/checkpoint-edge/checkpoint/internal/browsertest"
)

// One headless Chromium for the whole test binary (internal/browsertest);
// each test gets its own browser context (its own cookies, so its own
// officer session) and tab.

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Close()
	os.Exit(code)
}

// tab opens a fresh browser context and tab at the given viewport size.
func tab(t *testing.T, w, h int64) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test")
	}
	return browsertest.Tab(t, w, h, 2*time.Minute)
}

func artifactsDir(t *testing.T) string { return browsertest.Artifacts(t) }

func shot(t *testing.T, ctx context.Context, name string) { browsertest.Screenshot(t, ctx, name) }

func signIn(t *testing.T, ctx context.Context, l *pageLane, id, pin string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(l.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("officer")),
		chromedp.SendKeys(chromedp.ID("officer"), id),
		chromedp.SendKeys(chromedp.ID("pin"), pin+"\n"),
		chromedp.WaitVisible(chromedp.ID("banner")),
		chromedp.WaitReady(chromedp.CSS("#h-scanner.good")),
		// The page refuses keys for 0.7 s after the screen changes; the
		// tests look faster than an officer (press waits keyGuard).
		chromedp.Evaluate[chromedp.Void](`guardMs = 100`),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", id, err)
	}
	waitFor(t, ctx, "the live event stream", `S.streaming === true`)
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func textOf(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(`document.getElementById(%q).innerText`, id))
}

// waitFor polls a JavaScript condition.
func waitFor(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s (%s): %v; banner %q, status %q", what, js, err,
				textOf(t, ctx, "banner"), textOf(t, ctx, "verdict-status"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// onScreen waits until the page shows transaction id.
func onScreen(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	waitFor(t, ctx, "transaction "+id+" on screen", fmt.Sprintf(`document.getElementById("banner").dataset.tx === %q && S.txs.get(%q) && S.txs.get(%q).state === "decided"`, id, id, id))
}

// press presses a key after the page's guard time, as an officer who looks
// before pressing does.
func press(t *testing.T, ctx context.Context, k string) {
	t.Helper()
	time.Sleep(keyGuard)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(k)); err != nil {
		t.Fatalf("key %q: %v", k, err)
	}
}

// keyGuard is a little longer than the page's guard time in the tests
// (signIn sets it to 100 ms).
const keyGuard = 200 * time.Millisecond

type rect struct{ Top, Left, Bottom, Right, Width, Height float64 }

func box(t *testing.T, ctx context.Context, sel string) rect {
	t.Helper()
	return eval[rect](t, ctx, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return {Top:r.top, Left:r.left, Bottom:r.bottom, Right:r.right, Width:r.width, Height:r.height}; })()`, sel))
}

// inViewport asserts sel is wholly visible without scrolling.
func inViewport(t *testing.T, ctx context.Context, sel string, w, h float64) {
	t.Helper()
	r := box(t, ctx, sel)
	if r.Width == 0 || r.Height == 0 || r.Top < 0 || r.Left < 0 || r.Bottom > h || r.Right > w {
		t.Errorf("%s at %+v is not inside the %gx%g viewport", sel, r, w, h)
	}
}

func flashText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `document.getElementById("flash").hidden ? "" : document.getElementById("flash").innerText`)
}

func waitFlash(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	waitFor(t, ctx, "the message "+want, fmt.Sprintf(`!document.getElementById("flash").hidden && document.getElementById("flash").innerText.includes(%q)`, want))
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
