// Package scripts_test runs the repository's shell scripts the way a user
// does.
package scripts_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestDemoStopsCleanlyOnCtrlC runs make run's script at a terminal (a pty
// from util-linux's script(1)), waits until the demo is up, presses
// Ctrl-C, and expects a clean "demo stopped" and exit status 0: no
// component reported as crashed, nothing left running.
func TestDemoStopsCleanlyOnCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole demo")
	}
	need := func(ok bool, what string) {
		t.Helper()
		if !ok {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing: make deps / make models", what)
			}
			t.Skipf("%s missing", what)
		}
	}
	_, err := exec.LookPath("script")
	need(err == nil, "script(1) (util-linux)")
	_, err = exec.LookPath("socat")
	need(err == nil, "socat")
	models, _ := filepath.Abs("../models")
	_, err = os.Stat(filepath.Join(models, "dlib_face_recognition_resnet_model_v1.dat"))
	need(err == nil, "models")
	faces := os.Getenv("CHECKPOINT_FACES")
	if faces == "" {
		faces, _ = filepath.Abs("../../shared/testdata/faces")
	}
	_, err = os.Stat(faces)
	need(err == nil, "labelled faces")

	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "../cmd/checkpointd", "../cmd/checkpointctl", "../cmd/checkpoint-hub")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	demoDir := t.TempDir()
	env := fmt.Sprintf("DEMO_BIN=%s DEMO_DIR=%s DEMO_WEB_PORT=%d DEMO_HUB_PORT=%d CHECKPOINT_FACES=%s CHECKPOINT_MODELS=%s",
		bin, demoDir, freePort(t), freePort(t), faces, models)
	// Through make, as `make run` starts it: make must not see an
	// interrupted recipe either.
	script, _ := filepath.Abs("demo.sh")
	mk := filepath.Join(t.TempDir(), "Makefile")
	if err := os.WriteFile(mk, []byte("run:\n\t@"+script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "script", "-qefc", "env "+env+" make --no-print-directory -f "+mk+" run", "/dev/null")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The reader goroutine owns the output until it has read it all
	// (done); before that it is read only under mu.
	var (
		mu  sync.Mutex
		out strings.Builder
	)
	text := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
	up, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		seen := false
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if !seen && strings.Contains(sc.Text(), "Checkpoint demo is running") {
				seen = true
				close(up)
			}
		}
	}()
	select {
	case <-up:
	case <-ctx.Done():
		t.Fatalf("the demo did not come up:\n%s", text())
	}
	time.Sleep(3 * time.Second) // a traveller or two
	stdin.Write([]byte{3})      // Ctrl-C at the terminal
	err = cmd.Wait()
	pw.Close()
	<-done
	all := text()
	if err != nil {
		t.Fatalf("exit after Ctrl-C: %v\n%s", err, all)
	}
	if !strings.Contains(all, "demo stopped") || strings.Contains(all, "exited") || strings.Contains(all, "killing") ||
		strings.Contains(all, "Interrupt") || strings.Contains(all, "Error") {
		t.Fatalf("not a clean stop:\n%s", all)
	}
	// Nothing of the demo is left: its PTY links are gone.
	if _, err := os.Stat(filepath.Join(demoDir, "scanner")); err == nil {
		t.Errorf("PTY link left behind")
	}
}
