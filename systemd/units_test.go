package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const maxExposure = 2.5

func needAnalyze(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze not installed (make deps installs systemd)")
		}
		t.Skip("systemd-analyze not installed")
	}
	return p
}

// staged copies a unit with its binary path pointed at an executable that
// exists here, since verify checks ExecStart.
func staged(t *testing.T, unit string) string {
	t.Helper()
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`/usr/local/bin/[a-z-]+`).ReplaceAllString(string(b), "/bin/true")
	dir := t.TempDir()
	out := filepath.Join(dir, unit)
	if err := os.WriteFile(out, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

var exposureRE = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

func TestUnits(t *testing.T) {
	analyze := needAnalyze(t)
	for _, unit := range []string{"checkpointd.service", "checkpoint-hub.service"} {
		t.Run(unit, func(t *testing.T) {
			path := staged(t, unit)
			out, err := exec.Command(analyze, "verify", path).CombinedOutput()
			// verify also lints the units it pulls in (network-online.target
			// and friends) on hosts without a running systemd; only lines about
			// our unit matter.
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, unit) {
					t.Errorf("verify: %s", line)
				}
			}
			if err != nil && !strings.Contains(string(out), unit) {
				t.Logf("verify exit %v (host units only):\n%s", err, out)
			}
			out, err = exec.Command(analyze, "security", "--offline=true", path).CombinedOutput()
			m := exposureRE.FindSubmatch(out)
			if m == nil {
				t.Fatalf("security: no exposure figure (%v):\n%s", err, out)
			}
			exp, _ := strconv.ParseFloat(string(m[1]), 64)
			t.Logf("%s exposure %.1f", unit, exp)
			if exp > maxExposure {
				t.Fatalf("exposure %.1f > %.1f", exp, maxExposure)
			}
		})
	}
}

func TestDaemonUnitEssentials(t *testing.T) {
	b, err := os.ReadFile("checkpointd.service")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		"Type=notify", "WatchdogSec=", "User=checkpoint", "SupplementaryGroups=dialout video",
		"DeviceAllow=char-ttyUSB", "DeviceAllow=char-video4linux", "StateDirectoryMode=0700",
		"LoadCredential=watchlist.kek", "Restart=on-failure", "NoNewPrivileges=yes",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("checkpointd.service lacks %q", want)
		}
	}
}

// TestUnitsBoundMemory: issue 17 finding 2. Both units carry a memory
// ceiling (MemoryHigh= below MemoryMax=), and the Go heap limit sits below
// the ceiling so the collector works harder before the kernel throttles.
func TestUnitsBoundMemory(t *testing.T) {
	for _, name := range []string{"checkpointd.service", "checkpoint-hub.service"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		vals := map[string]string{}
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && !strings.HasPrefix(k, "#") {
				if k == "Environment" {
					k, v, _ = strings.Cut(v, "=")
				}
				vals[k] = v
			}
		}
		high, max, gomem := unitBytes(t, vals["MemoryHigh"]), unitBytes(t, vals["MemoryMax"]), unitBytes(t, strings.TrimSuffix(vals["GOMEMLIMIT"], "iB"))
		if high == 0 || max == 0 || gomem == 0 || !(gomem < high && high < max) {
			t.Errorf("%s: want GOMEMLIMIT < MemoryHigh < MemoryMax, have %q < %q < %q", name, vals["GOMEMLIMIT"], vals["MemoryHigh"], vals["MemoryMax"])
		}
	}
}

// unitBytes reads a systemd size (1024-based K, M, G suffixes); 0 if unset.
func unitBytes(t *testing.T, s string) int64 {
	t.Helper()
	if s == "" {
		return 0
	}
	mult := int64(1)
	switch s[len(s)-1] {
	case 'K':
		mult = 1 << 10
	case 'M':
		mult = 1 << 20
	case 'G':
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("size %q: %v", s, err)
	}
	return n * mult
}
