package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
)

// Path is the Chromium binary, or "" when none is installed.
func Path() string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Need fails in CI and skips elsewhere when a prerequisite is missing.
func Need(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s missing (make test installs it)", what)
	}
	t.Skipf("%s missing", what)
}

// Tab opens a new browser context and tab with a w×h viewport, on the
// test binary's one browser. It lives until the test ends, or timeout.
func Tab(t testing.TB, w, h int64, timeout time.Duration) context.Context {
	t.Helper()
	path := Path()
	Need(t, path != "", "chromium (make deps installs it)")
	once.Do(func() {
		dir, e := os.MkdirTemp("", "checkpoint-chromium")
		if e != nil {
			err = e
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.Flag("headless", true), chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true),
			chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
			chromedp.UserDataDir(dir), chromedp.WindowSize(1400, 1000))
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		// Started on a context without a deadline: the browser lives as
		// long as the test binary.
		err = chromedp.Do(bctx)
		ctx, cancel = bctx, func() { bcancel(); acancel(); os.RemoveAll(dir) }
	})
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	tctx, tcancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(tcancel)
	dctx, dcancel := context.WithTimeout(tctx, timeout)
	t.Cleanup(dcancel)
	if err := chromedp.Do(dctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	return dctx
}

// Close stops the browser (call it from TestMain after m.Run).
func Close() {
	if cancel != nil {
		cancel()
	}
}

// Artifacts is where screenshots go: $CHECKPOINT_ARTIFACTS, else
// artifacts/ at the repository root.
func Artifacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CHECKPOINT_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
		if wd, err := os.Getwd(); err == nil {
			for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
				if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
					dir = filepath.Join(d, "artifacts")
					break
				}
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Screenshot saves the tab's viewport as name in Artifacts.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(Artifacts(t), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}
