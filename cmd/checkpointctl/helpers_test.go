package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// techCtl is the checkpointctl binary shared by every test of the package:
// linking the cgo binary is the slow part, so it is done once per test
// process.
var techCtl struct {
	once     sync.Once
	dir, bin string
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if techCtl.dir != "" {
		os.RemoveAll(techCtl.dir)
	}
	os.Exit(code)
}

// techBinary builds checkpointctl on first use and returns its path.
func techBinary(t *testing.T) string {
	t.Helper()
	techCtl.once.Do(func() {
		techCtl.dir, techCtl.err = os.MkdirTemp("", "techctl")
		if techCtl.err != nil {
			return
		}
		techCtl.bin = filepath.Join(techCtl.dir, "checkpointctl")
		out, err := exec.Command("go", "build", "-o", techCtl.bin, ".").CombinedOutput()
		if err != nil {
			techCtl.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if techCtl.err != nil {
		t.Fatal(techCtl.err)
	}
	return techCtl.bin
}

// runBin runs bin with args, stdin (none when empty) and env added to the
// test's environment, and returns stdout, stderr and the exit code. It
// fails the test only when the process could not be run.
func runBin(t *testing.T, bin, stdin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	cmd.Env = append(os.Environ(), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return so.String(), se.String(), code
}

// runWant runs bin like runBin and fails the test unless it exits with
// want.
func runWant(t *testing.T, bin string, env []string, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	so, se, code := runBin(t, bin, "", env, args...)
	if code != want {
		t.Fatalf("checkpointctl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, so, se)
	}
	return so, se
}

// ctl runs the binary; want is the expected exit code. It returns stdout,
// or stderr when want is not 0.
func ctl(t *testing.T, bin string, want int, args ...string) string {
	t.Helper()
	so, se := runWant(t, bin, nil, want, args...)
	if want != 0 {
		return se
	}
	return so
}

// runCtl runs bin with env added to the test's environment and returns
// stdout, stderr and the exit code.
func runCtl(t *testing.T, bin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	return runBin(t, bin, "", env, args...)
}

// runTech runs the shared checkpointctl with stdin and extra environment
// variables and returns stdout, stderr and the exit code.
func runTech(t *testing.T, stdin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	return runBin(t, techBinary(t), stdin, env, args...)
}
