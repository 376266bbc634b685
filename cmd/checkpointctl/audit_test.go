package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAuditVerify(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "audit.log")
	head := writeAuditLog(t, good, 5, map[string]string{"decision": "d-17"})
	original, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}

	// tampered: one byte of entry 3's action changed, JSON still valid.
	tampered := filepath.Join(dir, "tampered.log")
	i := bytes.Index(original, []byte("confirm-3"))
	if i < 0 {
		t.Fatal("entry 3 not found")
	}
	b := bytes.Clone(original)
	b[i] = 'C'
	if err := os.WriteFile(tampered, b, 0o600); err != nil {
		t.Fatal(err)
	}

	// cut: a crash in the middle of writing entry 6.
	cut := filepath.Join(dir, "cut.log")
	if err := os.WriteFile(cut, append(bytes.Clone(original), `{"seq":6,"time":"2026-`...), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg := writeMinimalConfig(t, dir, "")

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"intact", []string{"--log", good}, 0, []string{"entries  5", "head     " + head, "OK: the chain is intact"}},
		{"intact via config", []string{"--config", cfg}, 0, []string{"audit log " + good, "entries  5", "OK"}},
		{"tampered", []string{"--log", tampered}, 1, []string{"entries  2 verified before the break", "BROKEN at entry 3", "hash mismatch"}},
		{"incomplete tail", []string{"--log", cut}, 0, []string{"entries  5", "OK", "note: the last line is incomplete"}},
		{"missing", []string{"--log", filepath.Join(dir, "nope.log")}, 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runTech(t, "", nil, append([]string{"audit", "verify"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.code == 2 && !strings.Contains(errOut, "no audit log at") {
				t.Errorf("stderr %q: want a clear message", errOut)
			}
			if strings.Contains(out, "d-17") {
				t.Errorf("output shows an entry's fields:\n%s", out)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		for _, tc := range []struct {
			log      string
			code     int
			ok       bool
			brokenAt uint64
			entries  uint64
		}{
			{good, 0, true, 0, 5},
			{tampered, 1, false, 3, 2},
		} {
			out, _, code := runTech(t, "", nil, "audit", "verify", "--log", tc.log, "--json")
			var got auditVerifyResult
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v: %q", err, out)
			}
			if code != tc.code || got.OK != tc.ok || got.BrokenAt != tc.brokenAt || got.Entries != tc.entries || got.Log != tc.log {
				t.Errorf("%s: exit %d, %+v", filepath.Base(tc.log), code, got)
			}
		}
	})
}
