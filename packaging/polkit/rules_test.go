// Package polkit_test checks the polkit rule that lets checkpointd (user
// "checkpoint") use pcscd, against a real polkitd: a private system bus
// and polkitd in a private mount namespace, where pcsc-lite's actions,
// the rule and two test users are mounted over the system's files, then
// pkcheck asks for each action on behalf of a process of each user.
package polkit_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const ruleFile = "50-checkpoint-pcscd.rules"

// pcscPolicy declares pcsc-lite's two actions with upstream's defaults:
// active local sessions only (no system service).
const pcscPolicy = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN" "http://www.freedesktop.org/standards/PolicyKit/1/policyconfig.dtd">
<policyconfig>
  <action id="org.debian.pcsc-lite.access_pcsc">
    <description>Access to the PC/SC daemon</description>
    <message>Authentication is required to access the PC/SC daemon</message>
    <defaults><allow_any>no</allow_any><allow_inactive>no</allow_inactive><allow_active>yes</allow_active></defaults>
  </action>
  <action id="org.debian.pcsc-lite.access_card">
    <description>Access to the smart card</description>
    <message>Authentication is required to access the smart card</message>
    <defaults><allow_any>no</allow_any><allow_inactive>no</allow_inactive><allow_active>yes</allow_active></defaults>
  </action>
</policyconfig>
`

const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`

// The script runs in the private mount namespace: the test's files over
// polkit's directories and the user database, a bus and polkitd, then
// pkcheck for a process of each user and each action.
const script = `
D=$1
mount --bind "$D/rules" /usr/share/polkit-1/rules.d
mount --bind "$D/empty" /etc/polkit-1/rules.d
mount --bind "$D/actions" /usr/share/polkit-1/actions
mount --bind "$D/passwd" /etc/passwd
mount --bind "$D/group" /etc/group
dbus-daemon --config-file="$D/bus.conf" --nofork & BUS=$!
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$D/bus.sock"
/usr/lib/polkit-1/polkitd --no-debug > "$D/polkitd.log" 2>&1 & PK=$!
setpriv --reuid=64123 --regid=64123 --clear-groups sleep 60 & CP=$!
setpriv --reuid=64124 --regid=64124 --clear-groups sleep 60 & OT=$!
trap 'kill $CP $OT $PK $BUS 2>/dev/null' EXIT
# polkitd is up when it answers (root's own process is a subject like any).
for i in $(seq 100); do
	pkcheck --action-id org.debian.pcsc-lite.access_pcsc --process $$ >/dev/null 2>&1 && break
	sleep 0.1
done
for a in access_pcsc access_card; do
	pkcheck --action-id org.debian.pcsc-lite.$a --process $CP >/dev/null 2>&1; echo "checkpoint $a $?"
	pkcheck --action-id org.debian.pcsc-lite.$a --process $OT >/dev/null 2>&1; echo "cpother $a $?"
done
`

func need(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the polkit test mounts files in a private namespace and must run as root")
		}
		t.Skip("needs root (a private mount namespace)")
	}
	for _, p := range []string{"unshare", "setpriv", "dbus-daemon", "pkcheck", "/usr/lib/polkit-1/polkitd"} {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing (make deps installs polkitd and dbus-daemon): %v", p, err)
			}
			t.Skipf("%s missing: %v", p, err)
		}
	}
}

// userDB copies path without lines for the test users' names or ids and
// appends them.
func userDB(t *testing.T, path, dst string, lines ...string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		fields := strings.Split(l, ":")
		if len(fields) > 2 && (fields[0] == "checkpoint" || fields[0] == "cpother" || fields[2] == "64123" || fields[2] == "64124") {
			continue
		}
		out.WriteString(l + "\n")
	}
	for _, l := range lines {
		out.WriteString(l + "\n")
	}
	if err := os.WriteFile(dst, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// authorized runs polkitd with the given rules and returns pkcheck's
// exit status per "user action".
func authorized(t *testing.T, rules []string) map[string]string {
	t.Helper()
	// polkitd drops to its own user: the directory must be open to it.
	dir, err := os.MkdirTemp("", "polkittest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"rules", "empty", "actions"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(dir, 0o755)
	for _, r := range rules {
		b, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "rules", filepath.Base(r)), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "actions", "org.debian.pcsc-lite.policy"), []byte(pcscPolicy), 0o644)
	os.WriteFile(filepath.Join(dir, "bus.conf"), []byte(fmt.Sprintf(busConfig, filepath.Join(dir, "bus.sock"))), 0o644)
	userDB(t, "/etc/passwd", filepath.Join(dir, "passwd"),
		"checkpoint:x:64123:64123::/nonexistent:/usr/sbin/nologin", "cpother:x:64124:64124::/nonexistent:/usr/sbin/nologin")
	userDB(t, "/etc/group", filepath.Join(dir, "group"), "checkpoint:x:64123:", "cpother:x:64124:")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "polkitd.log"))
		t.Fatalf("polkit run: %v\n%s\npolkitd: %s", err, out, log)
	}
	res := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) == 3 {
			res[f[0]+" "+f[1]] = f[2]
		}
	}
	if len(res) != 4 {
		log, _ := os.ReadFile(filepath.Join(dir, "polkitd.log"))
		t.Fatalf("pkcheck results %v from:\n%s\npolkitd: %s", res, out, log)
	}
	return res
}

// TestPcscdRule: with the rule, the checkpoint user may use pcscd and its
// cards and another system user may not; without it, neither may (so the
// rule, and its JavaScript, is what grants access).
func TestPcscdRule(t *testing.T) {
	need(t)
	with := authorized(t, []string{ruleFile})
	without := authorized(t, nil)
	for _, a := range []string{"access_pcsc", "access_card"} {
		if with["checkpoint "+a] != "0" {
			t.Errorf("with the rule, checkpoint %s: pkcheck exit %s, want 0 (authorized)", a, with["checkpoint "+a])
		}
		if with["cpother "+a] == "0" {
			t.Errorf("with the rule, another user is authorized for %s", a)
		}
		if without["checkpoint "+a] == "0" {
			t.Errorf("without the rule, checkpoint is authorized for %s: the test shows nothing", a)
		}
	}
}
