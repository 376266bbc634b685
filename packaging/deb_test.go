// Package packaging_test builds the Debian package and installs it on this
// machine: files, users, units, conffile handling, removal and purge.
//
// It changes the system (dpkg -i into /usr, system users), so it runs only
// as root and only where asked: under CI (a throw-away machine) or with
// CHECKPOINT_DEB_TEST=1 (set by make test).
package packaging_test

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

const pkg = "checkpoint"

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// build makes a package of version with the repository's deb script,
// from the binaries in bins.
func build(t *testing.T, version, bins, out string) string {
	t.Helper()
	cmd := exec.Command("../scripts/deb.sh")
	cmd.Env = append(os.Environ(), "OUT="+out, "VERSION="+version, "BINDIR="+bins)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deb.sh: %v\n%s", err, b)
	}
	lines := strings.Fields(strings.TrimSpace(string(b)))
	deb := lines[len(lines)-1]
	if _, err := os.Stat(deb); err != nil {
		t.Fatalf("no package: %s", b)
	}
	return deb
}

func installed() bool {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", pkg).Output()
	return err == nil && strings.Contains(string(out), "install ok installed")
}

func TestDebianPackage(t *testing.T) {
	if os.Getenv("CI") == "" && os.Getenv("CHECKPOINT_DEB_TEST") == "" {
		t.Skip("installs a package into the system: set CHECKPOINT_DEB_TEST=1 (make test does)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the package test installs with dpkg and must run as root")
	}
	for _, tool := range []string{"dpkg", "dpkg-deb", "systemd-analyze", "readelf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s missing: make deps", tool)
		}
	}
	if installed() {
		t.Fatalf("package %s is already installed on this machine: this test would replace it", pkg)
	}
	t.Cleanup(func() { exec.Command("dpkg", "--purge", pkg).Run() })

	// One build of the binaries for both packages. The test suite builds
	// the same packages without -trimpath: reuse that build cache rather
	// than compiling OpenCV's bindings again.
	out, bins := t.TempDir(), t.TempDir()
	run(t, "go", "build", "-ldflags", "-X github.com/checkpoint-edge/checkpoint/internal/buildinfo.version=v1.0.0",
		"-o", bins+"/", "../cmd/checkpointd", "../cmd/checkpointctl", "../cmd/checkpoint-hub")
	v1 := build(t, "v1.0.0", bins, out)
	v2 := build(t, "v1.0.1", bins, out)

	// The package as built: version, dependencies, conffile.
	if got := strings.TrimSpace(run(t, "dpkg-deb", "-f", v1, "Version")); got != "1.0.0" {
		t.Fatalf("version %q", got)
	}
	deps := run(t, "dpkg-deb", "-f", v1, "Depends")
	for _, want := range []string{"libopencv-core406", "libdlib19.1", "libdlib-data"} {
		if !strings.Contains(deps, want) {
			t.Errorf("Depends lacks %s: %s", want, deps)
		}
	}
	if cf := run(t, "sh", "-c", "dpkg-deb --ctrl-tarfile "+v1+" | tar -xO ./conffiles"); strings.TrimSpace(cf) != "/etc/checkpoint/checkpointd.yaml" {
		t.Fatalf("conffiles %q", cf)
	}

	run(t, "dpkg", "-i", v1)
	if !installed() {
		t.Fatal("not installed after dpkg -i")
	}

	// Files.
	for path, mode := range map[string]os.FileMode{
		"/usr/bin/checkpointd":    0o755,
		"/usr/bin/checkpointctl":  0o755,
		"/usr/bin/checkpoint-hub": 0o755,
		"/usr/share/checkpoint/models/dlib_face_recognition_resnet_model_v1.dat": 0o644,
		"/lib/systemd/system/checkpointd.service":                                0o644,
		"/lib/systemd/system/checkpoint-hub.service":                             0o644,
		"/etc/checkpoint/checkpointd.yaml":                                       0o640,
		"/usr/share/man/man1/checkpointctl.1.gz":                                 0o644,
		"/usr/share/man/man1/checkpointctl-outbox-list.1.gz":                     0o644,
		"/usr/share/man/man8/checkpointd.8.gz":                                   0o644,
		"/usr/share/man/man8/checkpoint-hub.8.gz":                                0o644,
		"/usr/share/bash-completion/completions/checkpointctl":                   0o644,
		"/usr/share/zsh/vendor-completions/_checkpointctl":                       0o644,
		"/usr/share/fish/vendor_completions.d/checkpointctl.fish":                0o644,
		"/usr/share/doc/checkpoint/examples/egate.yaml":                          0o644,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", path, st.Mode().Perm(), mode)
		}
	}
	run(t, "sh", "-c", "cd /usr/share/checkpoint/models && sha256sum --quiet -c SHA256SUMS")
	if v := run(t, "/usr/bin/checkpointctl", "version"); !strings.Contains(v, "checkpointctl v1.0.0") || !strings.Contains(v, "opencv") {
		t.Errorf("installed checkpointctl version: %s", v)
	}
	if v := run(t, "/usr/bin/checkpointd", "--version"); !strings.HasPrefix(v, "checkpointd v1.0.0") {
		t.Errorf("installed checkpointd --version: %s", v)
	}
	// The example config is the commented desk example, not the demo's,
	// and it names the packaged paths.
	cfg, _ := os.ReadFile("/etc/checkpoint/checkpointd.yaml")
	if !bytes.Contains(cfg, []byte("passport-control desk")) || bytes.Contains(cfg, []byte("demo")) ||
		!bytes.Contains(cfg, []byte("/usr/share/checkpoint/models")) || bytes.Contains(cfg, []byte("/usr/local")) {
		t.Errorf("installed config is not the commented desk example with packaged paths:\n%s", cfg)
	}
	unitFile, _ := os.ReadFile("/lib/systemd/system/checkpointd.service")
	if !bytes.Contains(unitFile, []byte("ExecStart=/usr/bin/checkpointd")) {
		t.Errorf("unit does not start the packaged binary")
	}

	// Users and groups.
	u, err := user.Lookup("checkpoint")
	if err != nil {
		t.Fatalf("user checkpoint: %v", err)
	}
	if u.HomeDir != "/var/lib/checkpoint" {
		t.Errorf("checkpoint home %s", u.HomeDir)
	}
	if sh := run(t, "getent", "passwd", "checkpoint"); !strings.HasSuffix(strings.TrimSpace(sh), "/usr/sbin/nologin") {
		t.Errorf("checkpoint can log in: %s", sh)
	}
	groups := run(t, "id", "-nG", "checkpoint")
	for _, g := range []string{"checkpoint", "dialout", "video"} {
		if !strings.Contains(" "+groups+" ", " "+g+" ") && !strings.Contains(groups, g) {
			t.Errorf("checkpoint not in group %s: %s", g, groups)
		}
	}
	if _, err := user.Lookup("checkpoint-hub"); err != nil {
		t.Errorf("user checkpoint-hub: %v", err)
	}
	st, err := os.Stat("/etc/checkpoint")
	if err != nil || st.Mode().Perm() != 0o750 {
		t.Errorf("/etc/checkpoint: %v %v", st, err)
	}
	g, _ := user.LookupGroup("checkpoint")
	if grp := run(t, "stat", "-c", "%G", "/etc/checkpoint/checkpointd.yaml"); strings.TrimSpace(grp) != "checkpoint" || g == nil {
		t.Errorf("config group %q", grp)
	}

	// The units as installed pass systemd's own checks.
	for _, unit := range []string{"checkpointd.service", "checkpoint-hub.service"} {
		b, _ := exec.Command("systemd-analyze", "verify", filepath.Join("/lib/systemd/system", unit)).CombinedOutput()
		// verify also lints the units ours pulls in (network-online.target
		// and friends) on hosts without a running systemd: only lines
		// about our unit matter, as in systemd/units_test.go.
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, unit) {
				t.Errorf("systemd-analyze verify: %s", line)
			}
		}
	}

	// The technician changes the config; an upgrade keeps the change.
	edited := append(cfg, []byte("\n# site note: changed by the technician\n")...)
	if err := os.WriteFile("/etc/checkpoint/checkpointd.yaml", edited, 0o640); err != nil {
		t.Fatal(err)
	}
	run(t, "dpkg", "--force-confdef", "--force-confold", "-i", v2)
	if got := strings.TrimSpace(run(t, "dpkg-query", "-W", "-f=${Version}", pkg)); got != "1.0.1" {
		t.Fatalf("after upgrade: version %s", got)
	}
	if now, _ := os.ReadFile("/etc/checkpoint/checkpointd.yaml"); !bytes.Equal(now, edited) {
		t.Fatalf("the upgrade overwrote the technician's config")
	}

	// Remove: the programs go, the configuration stays; purge: it goes too.
	files := strings.Fields(run(t, "dpkg-query", "-L", pkg))
	run(t, "dpkg", "-r", pkg)
	for _, f := range []string{"/usr/bin/checkpointd", "/usr/bin/checkpointctl", "/lib/systemd/system/checkpointd.service", "/usr/share/checkpoint/models/SHA256SUMS"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s left after dpkg -r", f)
		}
	}
	if _, err := os.Stat("/etc/checkpoint/checkpointd.yaml"); err != nil {
		t.Errorf("dpkg -r removed the configuration: %v", err)
	}
	run(t, "dpkg", "--purge", pkg)
	if installed() {
		t.Fatal("still installed after purge")
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err == nil && !st.IsDir() {
			t.Errorf("%s left after purge", f)
		}
	}
	if _, err := os.Stat("/etc/checkpoint"); err == nil {
		t.Errorf("/etc/checkpoint left after purge (it held only packaged files)")
	}
}
