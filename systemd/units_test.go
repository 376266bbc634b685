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
