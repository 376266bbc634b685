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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
func artifacts(t *testing.T) string {
	dir := os.Getenv("CHECKPOINT_ARTIFACTS")
	if dir == "" {
		dir, _ = filepath.Abs("../../artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

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

func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	unittest.Need(t, false, "chromium (make deps installs it)")
	return ""
}

func browser(t *testing.T) (context.Context, context.CancelFunc) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("headless", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, tcancel := context.WithTimeout(ctx, 3*time.Minute)
	return ctx, func() { tcancel(); cancel(); acancel() }
}

// TestOfficerConfirmsHit is the officer's whole flow in a real browser: sign
// in, a watchlisted traveller's passport is scanned on the PTY while the
// camera shows their face, the red alert appears, the officer presses C,
// and the verdict reaches headquarters through the outbox.
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
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("reading #%s: %v", id, err)
		}
		return v
	}
	screenshot := func(name string) {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		p := filepath.Join(shots, name)
		if err := os.WriteFile(p, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", p)
	}
	err := chromedp.Do(ctx,
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
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("#banner.HIT")),
		chromedp.WaitVisible(chromedp.ID("face-live")),
	)
	if err != nil {
		t.Fatalf("waiting for the red alert: %v", err)
	}
	screenshot("officer-hit.png")
	decision, action, hits := text("decision"), text("action"), strings.ToUpper(text("hits"))
	if decision != "HIT" || !strings.Contains(action, "ARREST") {
		t.Fatalf("banner %q / %q", decision, action)
	}
	if !strings.Contains(hits, "FACE") {
		t.Errorf("no face hit listed: %q", hits)
	}
	if !strings.Contains(hits, "PERSON") {
		t.Errorf("no person hit listed: %q", hits)
	}
	err = chromedp.Do(ctx,
		chromedp.KeyEvent("c"),
		chromedp.WaitVisible(`//span[@id="verdict-status" and contains(., "Recorded: confirmed")]`),
	)
	if err != nil {
		t.Fatalf("confirming: %v (status %q)", err, text("verdict-status"))
	}
	screenshot("officer-confirmed.png")

	// The verdict went to the outbox, and the uploader delivers it to HQ.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var kinds []string
		found := false
		for _, r := range f.Hub.Results(t, unittest.UnitID) {
			kinds = append(kinds, r.Kind)
			if r.Kind == "officer_decision" {
				var od struct {
					Verdict string `json:"verdict"`
					Officer string `json:"officer"`
				}
				json.Unmarshal(r.Payload, &od)
				if od.Verdict == "confirmed" && od.Officer == unittest.Officer {
					found = true
				}
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("officer decision never reached the hub; hub holds %v", kinds)
		}
		time.Sleep(300 * time.Millisecond)
	}

	// The next passport is clean, but the camera still shows the listed
	// face: a face-only hit, and the page shows the new transaction.
	firstTx := text("txid")
	f.Scan(f.Clear)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`//footer/span[@id="txid" and not(.="`+firstTx+`")]`),
		chromedp.WaitVisible(chromedp.CSS("#banner.HIT"))); err != nil {
		t.Fatalf("next traveller: %v", err)
	}
	screenshot("officer-face-only-hit.png")
	if hits := strings.ToUpper(text("hits")); !strings.Contains(hits, "FACE") || strings.Contains(hits, "PERSON") {
		t.Fatalf("clean passport, listed face: hits %q", hits)
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
