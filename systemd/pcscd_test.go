package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
)

// unitSettings returns a unit's Key=Value lines, values of repeated keys
// joined by a space.
func unitSettings(t *testing.T, unit string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		if out[k] != "" {
			v = out[k] + " " + v
		}
		out[k] = v
	}
	return out
}

// TestDaemonUnitReachesPcscd: nothing in checkpointd's sandbox cuts it
// off pcscd's socket: AF_UNIX allowed, no private network or IPC
// namespace that would hide it, /run/pcscd neither inaccessible nor
// replaced, and pcscd's socket ordered before the daemon.
func TestDaemonUnitReachesPcscd(t *testing.T) {
	s := unitSettings(t, "checkpointd.service")
	if !strings.Contains(" "+s["RestrictAddressFamilies"]+" ", " AF_UNIX ") {
		t.Errorf("RestrictAddressFamilies=%s lacks AF_UNIX", s["RestrictAddressFamilies"])
	}
	if strings.Contains(s["SystemCallFilter"], "~@network-io") || strings.Contains(s["SystemCallFilter"], "connect") {
		t.Errorf("SystemCallFilter=%s blocks connect", s["SystemCallFilter"])
	}
	for _, k := range []string{"InaccessiblePaths", "TemporaryFileSystem", "BindPaths", "BindReadOnlyPaths"} {
		if v := s[k]; strings.Contains(v, "/run") {
			t.Errorf("%s=%s hides /run/pcscd", k, v)
		}
	}
	if s["PrivateNetwork"] == "yes" || s["PrivateIPC"] == "yes" || s["RootDirectory"] != "" || s["RootImage"] != "" {
		t.Errorf("the unit runs in its own network, IPC or root: %v", s)
	}
	// IPAddressDeny filters IP packets only; AF_UNIX is not affected.
	if !regexp.MustCompile(`(^| )pcscd\.socket( |$)`).MatchString(s["After"]) {
		t.Errorf("After=%s: not ordered after pcscd.socket", s["After"])
	}
	if s["User"] != "checkpoint" {
		t.Errorf("User=%s: the polkit rule names the user checkpoint", s["User"])
	}
}

// TestPcscdSocketThroughReadOnlyMount connects, as an unprivileged user
// with no capabilities and no new privileges, to a real pcscd whose
// socket lies on a read-only mount (what ProtectSystem=strict makes of
// /run): the connection works, while writing there fails.
func TestPcscdSocketThroughReadOnlyMount(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("needs root (a private mount namespace)")
		}
		t.Skip("needs root (a private mount namespace)")
	}
	for _, p := range []string{"unshare", "setpriv", "socat"} {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing: make deps", p)
			}
			t.Skipf("%s missing", p)
		}
	}
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	dir := filepath.Dir(srv.SocketPath)
	script := `set -e
mount --bind "$1" "$1"
mount -o remount,bind,ro "$1"
if setpriv --reuid=64123 --regid=64123 --clear-groups --inh-caps=-all --no-new-privs touch "$1/written" 2>/dev/null; then echo WRITABLE; exit 1; fi
setpriv --reuid=64123 --regid=64123 --clear-groups --inh-caps=-all --no-new-privs socat -u OPEN:/dev/null "UNIX-CONNECT:$2"
echo CONNECTED`
	out, err := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", dir, srv.SocketPath).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CONNECTED") {
		t.Fatalf("connect through a read-only mount as an unprivileged user: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "written")); err == nil {
		t.Fatal("the read-only mount was written")
	}
}
