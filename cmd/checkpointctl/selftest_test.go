package main

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/device/camera/cameratest"
	"github.com/checkpoint-edge/checkpoint/device/scanner/scannertest"
	"github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

const (
	selftestWLKey = "6b0f3c1e2d4a59687786950a1b2c3d4e5f60718293a4b5c6d7e8f90112233445"
	selftestOBKey = "a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00"
	otherKey      = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
)

// selftestRig is a unit made of real parts: a socat PTY for the scanner, a
// video file recorded from face photos for the camera, the real models,
// env: key providers and an encrypted watchlist file.
type selftestRig struct {
	dir, stateDir, port, peer, video, models string
	// A private pcscd with a vpcd reader, and a trust file.
	pcscd, reader, trust string
}

func newSelftestRig(t *testing.T) *selftestRig {
	t.Helper()
	models, err := vision.FindModels()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("face models missing in CI: %v", err)
		}
		t.Skipf("face models not found: %v", err)
	}
	if _, err := os.Stat(facedlib.DefaultShapePredictor); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("landmark model missing in CI (apt-get install libdlib-data): %v", err)
		}
		t.Skipf("landmark model not found: %v", err)
	}
	pty := scannertest.NewPTY(t)
	r := &selftestRig{dir: t.TempDir(), port: pty.Port, peer: pty.Device, models: models}
	r.stateDir = filepath.Join(r.dir, "state")
	if err := os.Mkdir(r.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	r.video = filepath.Join(r.dir, "camera.avi")
	if err := cameratest.VideoFromPhotos(r.video, cameratest.FacePhotos(t)[:2], 10, 10); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CP_ST_WL_KEY", selftestWLKey)
	s, err := watchlist.Open(filepath.Join(r.stateDir, "watchlist.db"), seal.EnvKey{Var: "CP_ST_WL_KEY"}, watchlist.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	r.pcscd, r.reader = srv.SocketPath, srv.Reader
	r.trust = filepath.Join(r.dir, "chip-trust.pem")
	de := emrtdtest.NewBrainpoolState(t, "DE", "brainpoolP384r1", "brainpoolP256r1", true)
	if err := os.WriteFile(r.trust, pa.EncodePEM(pa.Set{CSCAs: []*x509.Certificate{de.CSCA, emrtdtest.NewState(t, "FR").CSCA}}), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

// tamperedModels links the real models into a directory whose
// SHA256SUMS lists another sum for the embedding model: a replaced file.
func (r *selftestRig) tamperedModels(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "models")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(r.models, vision.EmbeddingModelFile), filepath.Join(dir, vision.EmbeddingModelFile)); err != nil {
		t.Fatal(err)
	}
	sums := strings.Repeat("0", 64) + "  " + vision.EmbeddingModelFile + "\n"
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type selftestEdit struct {
	modelsDir, port string
	cameraOff       bool
	// chipSocket and chipReader override the pcscd socket and reader.
	chipSocket, chipReader string
}

// config writes a config for the rig, with edits.
func (r *selftestRig) config(t *testing.T, e selftestEdit) string {
	t.Helper()
	models, port := r.models, r.port
	if e.modelsDir != "" {
		models = e.modelsDir
	}
	if e.port != "" {
		port = e.port
	}
	chipSocket, chipReader := r.pcscd, r.reader
	if e.chipSocket != "" {
		chipSocket = e.chipSocket
	}
	if e.chipReader != "" {
		chipReader = e.chipReader
	}
	y := fmt.Sprintf(`version: 1
unit: {id: desk-07, mode: desk}
state_dir: %s
scanner: {enabled: true, port: %s, baud: 9600, framing: stx-bcc}
camera: {enabled: %v, device: %s, width: 640, height: 480, fps: 10, fourcc: ""}
vision: {models_dir: %s, detector: hog, workers: 1}
watchlist: {key: "env:CP_ST_WL_KEY"}
outbox: {key: "env:CP_ST_OB_KEY"}
web: {accounts: %s}
chip: {enabled: true, socket: %s, reader: %q, trust: %s}
`, r.stateDir, port, !e.cameraOff, r.video, models, filepath.Join(r.dir, "accounts.json"), chipSocket, chipReader, r.trust)
	path := filepath.Join(t.TempDir(), "checkpointd.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runSelftest runs selftest --json and returns the results by check.
func runSelftest(t *testing.T, env []string, args ...string) (map[string]selftestCheck, int) {
	t.Helper()
	out, errOut, code := runTech(t, "", env, append([]string{"selftest", "--json", "--scanner-timeout", "3s", "--chip-timeout", "15s"}, args...)...)
	res := map[string]selftestCheck{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var c selftestCheck
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%v: %q (stderr %s)", err, sc.Text(), errOut)
		}
		res[c.Check] = c
	}
	if len(res) != 12 {
		t.Fatalf("want 11 checks and a summary, got %d:\n%s\n%s", len(res), out, errOut)
	}
	return res, code
}

func TestSelftest(t *testing.T) {
	r := newSelftestRig(t)
	goodEnv := []string{"CP_ST_WL_KEY=" + selftestWLKey, "CP_ST_OB_KEY=" + selftestOBKey}

	t.Run("all pass", func(t *testing.T) {
		res, code := runSelftest(t, goodEnv, "--config", r.config(t, selftestEdit{}), "--loopback", r.peer)
		for name, c := range res {
			if c.Result != selftestPass {
				t.Errorf("%s: %s %s", name, c.Result, c.Reason)
			}
		}
		if code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		sums := "files match SHA256SUMS"
		if _, err := os.Stat(filepath.Join(r.models, "SHA256SUMS")); err != nil {
			sums = "no SHA256SUMS to check against"
		}
		for check, want := range map[string]string{
			"scanner": "loopback: TD3 document written on " + r.peer, "camera": "640x480 frame",
			"models": sums, "watchlist": "opens read-only", "state dir": "mode 0700, writable",
			"chip reader": `"` + r.reader + `" through pcscd at ` + r.pcscd + "; no card on it",
			"chip trust":  "2 CSCAs of 2 countries (0 expired), 0 CRLs",
		} {
			if !strings.Contains(res[check].Reason, want) {
				t.Errorf("%s: reason %q lacks %q", check, res[check].Reason, want)
			}
		}
	})

	// Each case breaks one thing: that check fails with a clear reason,
	// the others stand, and the exit status is 1.
	for _, tc := range []struct {
		name   string
		edit   selftestEdit
		env    []string
		args   []string
		check  string
		result string
		reason string
	}{
		{name: "missing model dir", edit: selftestEdit{modelsDir: filepath.Join(r.dir, "no-models")},
			check: "models", result: selftestFail, reason: "models_dir"},
		{name: "model does not match SHA256SUMS", edit: selftestEdit{modelsDir: r.tamperedModels(t)},
			check: "models", result: selftestFail, reason: "does not match SHA256SUMS"},
		{name: "wrong watchlist key", edit: selftestEdit{cameraOff: true}, env: []string{"CP_ST_WL_KEY=" + otherKey, "CP_ST_OB_KEY=" + selftestOBKey},
			check: "watchlist", result: selftestFail, reason: "does not unwrap"},
		{name: "missing outbox key", edit: selftestEdit{cameraOff: true}, env: []string{"CP_ST_WL_KEY=" + selftestWLKey, "CP_ST_OB_KEY="},
			check: "key outbox", result: selftestFail, reason: "env:CP_ST_OB_KEY"},
		{name: "missing port", edit: selftestEdit{cameraOff: true, port: filepath.Join(r.dir, "ttyNOPE")},
			check: "scanner", result: selftestFail, reason: "does not open"},
		{name: "no pcscd", edit: selftestEdit{cameraOff: true, chipSocket: filepath.Join(r.dir, "no-pcscd.comm")},
			// Nothing will answer: no need to wait as long as for a
			// private pcscd starting on a loaded machine.
			args:  []string{"--chip-timeout", "3s"},
			check: "chip reader", result: selftestFail, reason: "pcscd does not answer at " + filepath.Join(r.dir, "no-pcscd.comm")},
		{name: "reader not plugged in", edit: selftestEdit{cameraOff: true, chipReader: "ACR1252"},
			check: "chip reader", result: selftestFail, reason: `no reader's name contains "ACR1252" (readers: "` + r.reader + `"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env == nil {
				env = goodEnv
			}
			res, code := runSelftest(t, env, append([]string{"--config", r.config(t, tc.edit)}, tc.args...)...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			got := res[tc.check]
			if got.Result != tc.result || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("%s: %s %q; want %s with %q", tc.check, got.Result, got.Reason, tc.result, tc.reason)
			}
			for name, c := range res {
				if name != tc.check && name != "summary" && c.Result == selftestFail {
					t.Errorf("%s also failed: %s", name, c.Reason)
				}
			}
		})
	}

	t.Run("store held by the daemon", func(t *testing.T) {
		s, err := watchlist.Open(filepath.Join(r.stateDir, "watchlist.db"), seal.EnvKey{Var: "CP_ST_WL_KEY"}, watchlist.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		res, code := runSelftest(t, goodEnv, "--config", r.config(t, selftestEdit{cameraOff: true}))
		if c := res["watchlist"]; c.Result != selftestSkip || !strings.Contains(c.Reason, "in use by checkpointd") {
			t.Errorf("watchlist: %s %q", c.Result, c.Reason)
		}
		if c := res["scanner"]; c.Result != selftestPass || !strings.Contains(c.Reason, "opens") {
			t.Errorf("scanner without loopback: %s %q", c.Result, c.Reason)
		}
		if code != 0 {
			t.Errorf("exit %d, want 0 (skips are not failures)", code)
		}
	})

	t.Run("state dir too open, human output", func(t *testing.T) {
		if err := os.Chmod(r.stateDir, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(r.stateDir, 0o700)
		out, _, code := runTech(t, "", goodEnv, "selftest", "--config", r.config(t, selftestEdit{cameraOff: true}))
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		for _, want := range []string{"FAIL  state dir", "mode 0755, want 0700", "SKIP  camera", "camera disabled", "selftest FAIL: ", "1 failed"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("invalid config", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(bad, []byte("version: 1\nstate_dir: /tmp\n"), 0o600)
		res, code := runSelftest(t, goodEnv, "--config", bad)
		if code != 1 || res["config"].Result != selftestFail || !strings.Contains(res["config"].Reason, "unit.id") {
			t.Errorf("exit %d, config %+v", code, res["config"])
		}
		if res["models"].Result != selftestSkip {
			t.Errorf("models should be skipped without a config: %+v", res["models"])
		}
	})
}
