package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/checkpoint-edge/checkpoint/internal/browsertest"
	"github.com/checkpoint-edge/checkpoint/internal/unit/unittest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// daemonBinary builds checkpointd once per test run.
func daemonBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "checkpointd-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "checkpointd")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// artifacts is where screenshots go: $CHECKPOINT_ARTIFACTS or <repo>/artifacts.
func artifacts(t *testing.T) string { return browsertest.Artifacts(t) }

type daemon struct {
	cmd  *exec.Cmd
	logs *strings.Builder
	mu   *sync.Mutex
	done chan error
}

func startDaemon(t *testing.T, f *unittest.Fixture) *daemon {
	t.Helper()
	cmd := exec.Command(daemonBinary(t), "--config", f.ConfigPath)
	var mu sync.Mutex
	logs := &strings.Builder{}
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, logs: logs, mu: &mu, done: make(chan error, 1)}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-d.done
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.log())
		}
	})
	url := "http://" + f.Config.Web.Listen + "/healthz"
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-d.done:
			t.Fatalf("checkpointd exited at start: %v\n%s", err, d.log())
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return d
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("officer page never answered\n%s", d.log())
	return nil
}

func (d *daemon) log() string { d.mu.Lock(); defer d.mu.Unlock(); return d.logs.String() }

func (d *daemon) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("checkpointd did not stop cleanly: %v\n%s", err, d.log())
		}
		d.done <- nil
	case <-time.After(20 * time.Second):
		t.Fatal("checkpointd did not stop within 20 s of SIGTERM")
	}
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Close()
	os.Exit(code)
}

// browser opens a tab with its own cookies on the test binary's one
// Chromium (internal/browsertest).
func browser(t *testing.T) (context.Context, context.CancelFunc) {
	return browsertest.Tab(t, 1400, 1000, 3*time.Minute), func() {}
}

// waitJS polls a JavaScript condition on the page.
func waitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			banner, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("banner").innerText`))
			t.Fatalf("waiting for %s: %v (banner %q)", what, err, banner)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// bannerInViewport asserts the decision banner is wholly on screen.
func bannerInViewport(t *testing.T, ctx context.Context, w, h float64) {
	t.Helper()
	type rect struct{ Top, Left, Bottom, Right float64 }
	r, err := chromedp.Run(ctx, chromedp.Evaluate[rect](`(() => { const r = document.getElementById("banner").getBoundingClientRect(); return {Top:r.top, Left:r.left, Bottom:r.bottom, Right:r.right}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Top < 0 || r.Left < 0 || r.Bottom > h || r.Right > w || r.Bottom <= r.Top {
		t.Fatalf("HIT banner at %+v, outside the %gx%g viewport", r, w, h)
	}
}

// TestOfficerConfirmsHit is the officer's whole flow in a real browser: sign
// in, a watchlisted traveller's passport is scanned on the PTY while the
// camera shows their face, the red alert appears on one screen with both
// photos (at the desk's 1366×768 and the kiosk's 1024×600), the officer
// presses C, then changes the verdict with a reason, and both verdicts
// reach headquarters through the outbox.
func TestOfficerConfirmsHit(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end browser test")
	}
	f := unittest.New(t, unittest.Options{Camera: true, Hub: true, Embedder: "onnx"}) // the listed face is another photo: MobileFaceNet finds it
	d := startDaemon(t, f)
	ctx, cancel := browser(t)
	defer cancel()
	base := "http://" + f.Config.Web.Listen
	shots := artifacts(t)

	text := func(id string) string {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("`+id+`").innerText`))
		if err != nil {
			t.Fatalf("reading #%s: %v", id, err)
		}
		return v
	}
	screenshot := func(name string) {
		shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		p := filepath.Join(shots, name)
		if err := os.WriteFile(p, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", p)
	}
	press := func(k string) {
		time.Sleep(800 * time.Millisecond) // the page refuses keys in the instant the screen changes
		if err := chromedp.Do(ctx, chromedp.KeyEvent(k)); err != nil {
			t.Fatal(err)
		}
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("officer")),
		chromedp.SendKeys(chromedp.ID("officer"), unittest.Officer),
		chromedp.SendKeys(chromedp.ID("pin"), unittest.PIN+"\n"),
		chromedp.WaitVisible(chromedp.ID("banner")),
		chromedp.WaitReady(chromedp.CSS("#h-scanner.good")),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	screenshot("officer-waiting.png")
	f.Scan(f.Listed)
	waitJS(t, ctx, "the red alert with both photos", `document.querySelector("#banner.HIT") !== null && !document.getElementById("face-live").hidden && document.getElementById("face-live").naturalWidth > 0 && !document.getElementById("face-ref").hidden`)
	bannerInViewport(t, ctx, 1366, 768)
	screenshot("officer-hit.png")
	decision, action, plain := text("decision"), text("action"), text("plain")
	if decision != "HIT" || action != "ARREST" {
		t.Fatalf("banner %q / %q", decision, action)
	}
	// Worded from the real watchlist's structured hit.
	for _, want := range []string{
		"Name matches listed person PARK Jimin (surname exact, given name exact), born same day, same nationality.",
		"Face matches listed person PARK Jimin.",
		"Face similarity:",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("explanation lacks %q:\n%s", want, plain)
		}
	}
	press("c")
	waitJS(t, ctx, "the verdict", `document.getElementById("verdict-status").innerText.includes("Recorded: hit confirmed")`)
	screenshot("officer-confirmed.png")
	// Changed within the shift, with a reason: E, F, a dismissal reason, a
	// reason for the change.
	press("e")
	press("f")
	waitJS(t, ctx, "the dismissal reasons", `!document.getElementById("picker").hidden`)
	press("1")
	waitJS(t, ctx, "the change reasons", `document.getElementById("picker-title").innerText.includes("why?")`)
	press("2")
	waitJS(t, ctx, "the changed verdict", `document.getElementById("verdict-status").innerText.includes("changed 1 time(s)")`)

	// Both verdicts went to the outbox, and the uploader delivers them to
	// HQ, the second naming the first.
	type verdict struct {
		ID, Verdict, Officer, Supersedes, Reason string
		ChangeReason                             string `json:"change_reason"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var kinds []string
		var got []verdict
		for _, r := range f.Hub.Results(t, unittest.UnitID) {
			kinds = append(kinds, r.Kind)
			if r.Kind == "officer_decision" {
				var v verdict
				json.Unmarshal(r.Payload, &v)
				got = append(got, v)
			}
		}
		if len(got) == 2 {
			first, second := got[0], got[1]
			if first.Verdict == "confirmed" && first.Officer == unittest.Officer && second.Verdict == "false_positive" &&
				second.Supersedes == first.ID && second.Reason == "different_person" && second.ChangeReason == "new_information" {
				break
			}
			t.Fatalf("verdicts at the hub %+v", got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("officer decisions never reached the hub; hub holds %v", kinds)
		}
		time.Sleep(300 * time.Millisecond)
	}

	// The next passport is clean, but the camera still shows the listed
	// face: a face-only hit, said in words, at the kiosk's size too.
	firstTx := text("txid")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 600)); err != nil {
		t.Fatal(err)
	}
	f.Scan(f.Clear)
	waitJS(t, ctx, "the next traveller", `document.getElementById("txid").innerText !== `+strconv.Quote(firstTx)+` && document.querySelector("#banner.HIT") !== null`)
	bannerInViewport(t, ctx, 1024, 600)
	screenshot("officer-face-only-hit.png")
	if plain := text("plain"); !strings.Contains(plain, "Face matches listed person PARK Jimin, although the passport is in another name.") || strings.Contains(plain, "Name matches") {
		t.Fatalf("clean passport, listed face: %q", plain)
	}
	d.stop(t)
	if strings.Contains(d.log(), "JIMIN") || strings.Contains(d.log(), "M12345678") {
		t.Fatal("daemon log holds personal data")
	}
}

// TestOfficerSignsInAsOSUser: the desk's kiosk session asks the running
// daemon for a sign-in link over the sign-in socket (as checkpointctl
// officer signin does); the browser opens it and is signed in as the
// officer mapped to that OS user, without a PIN. The link works once.
func TestOfficerSignsInAsOSUser(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end browser test")
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	f := unittest.New(t, unittest.Options{SignInAs: me.Username})
	d := startDaemon(t, f)
	ctx, cancel := browser(t)
	defer cancel()

	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", f.Config.Web.SignInSocket)
	}}}
	resp, err := hc.Post("http://checkpointd/v1/signin", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var tk struct{ Officer, URL string }
	json.NewDecoder(resp.Body).Decode(&tk)
	resp.Body.Close()
	if resp.StatusCode != 200 || tk.Officer != unittest.Officer {
		t.Fatalf("sign-in socket: %d, %+v", resp.StatusCode, tk)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(tk.URL),
		chromedp.WaitVisible(chromedp.ID("banner")),
		chromedp.WaitReady(chromedp.CSS("#h-scanner.good")),
	)
	if err != nil {
		t.Fatalf("opening the sign-in link: %v", err)
	}
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("officer")))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(who, "Officer One") || strings.Contains(loc, "ticket") {
		t.Fatalf("signed in as %q at %s", who, loc)
	}
	// The same link in a fresh browser lands on the sign-in form.
	ctx2, cancel2 := browser(t)
	defer cancel2()
	if err := chromedp.Do(ctx2, chromedp.Navigate(tk.URL), chromedp.WaitVisible(chromedp.ID("pin"))); err != nil {
		t.Fatalf("reusing the link: %v", err)
	}
	if loc, err = chromedp.Run(ctx2, chromedp.Location()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/login?e=ticket") {
		t.Fatalf("reused link went to %s", loc)
	}
	d.stop(t)
}
