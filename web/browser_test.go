package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// One headless Chromium for the whole test binary; each test gets its own
// browser context (its own cookies, so its own officer session) and tab.

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel context.CancelFunc
	browserErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	os.Exit(code)
}

func chromiumPath() string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// tab opens a fresh browser context and tab at the given viewport size.
func tab(t *testing.T, w, h int64) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test")
	}
	path := chromiumPath()
	need(t, path != "", "chromium (make deps installs it)")
	browserOnce.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.Flag("headless", true), chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true),
			chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
			chromedp.Flag("hide-scrollbars", false),
			chromedp.WindowSize(1400, 1000))
		dir, err := os.MkdirTemp("", "checkpoint-web-chromium")
		if err != nil {
			browserErr = err
			return
		}
		opts = append(opts, chromedp.UserDataDir(dir))
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		// Start the browser on a context without a deadline: it lives as
		// long as the test binary.
		if err := chromedp.Do(bctx); err != nil {
			browserErr = err
		}
		browserCtx = bctx
		browserCancel = func() { bcancel(); acancel(); os.RemoveAll(dir) }
	})
	if browserErr != nil {
		t.Fatalf("starting chromium: %v", browserErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tctx, tcancel := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(tcancel)
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	return tctx
}

// artifacts is where screenshots go: $CHECKPOINT_ARTIFACTS or <repo>/artifacts.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("CHECKPOINT_ARTIFACTS")
	if dir == "" {
		dir, _ = filepath.Abs("../artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

func signIn(t *testing.T, ctx context.Context, l *pageLane, id, pin string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(l.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("officer")),
		chromedp.SendKeys(chromedp.ID("officer"), id),
		chromedp.SendKeys(chromedp.ID("pin"), pin+"\n"),
		chromedp.WaitVisible(chromedp.ID("banner")),
		chromedp.WaitReady(chromedp.CSS("#h-scanner.good")),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", id, err)
	}
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

// key presses a key after the page's guard time, as an officer who looks
// before pressing does.
func key(t *testing.T, ctx context.Context, k string) {
	t.Helper()
	time.Sleep(guard)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(k)); err != nil {
		t.Fatalf("key %q: %v", k, err)
	}
}

// guard is a little longer than the page's GUARD_MS.
const guard = 800 * time.Millisecond

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
