// Package pgtest runs a private PostgreSQL cluster for tests: initdb in a
// fresh temporary directory, the server listening only on a Unix socket in
// that directory (no TCP port, so concurrent test runs never collide), and
// everything removed when the test ends.
//
// PostgreSQL refuses to run as root. When the test runs as root (CI does),
// the cluster runs as the "postgres" system user that Debian's postgresql
// package creates (override with CHECKPOINT_PG_USER); the temporary
// directory is handed to that user. The binaries come from
// /usr/lib/postgresql/<highest version>/bin unless CHECKPOINT_PG_BIN names
// another directory.
//
// Start fails the test (never skips) when CI is set and PostgreSQL is
// missing; elsewhere it skips, so `go test` works on a laptop without it.
package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options tune the cluster.
type Options struct {
	// Settings are extra postgresql.conf settings (name -> value).
	Settings map[string]string
	// NoFsync turns fsync off: only for benchmarks that load bulk data.
	NoFsync bool
}

// Cluster is a running (or stopped) private cluster.
type Cluster struct {
	Dir       string // root of everything (data, socket, log)
	SocketDir string
	Port      int
	bin       string
	cred      *syscall.Credential
	user      string // database superuser (the OS user the server runs as)
	opts      Options

	mu     sync.Mutex
	proc   *exec.Cmd
	exited chan struct{}
}

// BinDir returns the directory of PostgreSQL's server binaries, or an error.
func BinDir() (string, error) {
	if d := os.Getenv("CHECKPOINT_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("pgtest: PostgreSQL server binaries not found (apt-get install postgresql, or set CHECKPOINT_PG_BIN)")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start creates and starts a cluster; t.Cleanup stops it and removes its
// files.
func Start(t testing.TB, o ...Options) *Cluster {
	t.Helper()
	c, err := New(o...)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pgtest: %v", err)
		}
		t.Skipf("pgtest: %v", err)
	}
	t.Cleanup(c.Destroy)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// New creates (initdb) a stopped cluster. Destroy removes it.
func New(o ...Options) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, Port: 5432}
	if len(o) > 0 {
		c.opts = o[0]
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c.Dir, c.SocketDir = dir, dir
	cu, err := user.Current()
	if err != nil {
		return nil, err
	}
	c.user = cu.Username
	if os.Geteuid() == 0 {
		name := os.Getenv("CHECKPOINT_PG_USER")
		if name == "" {
			name = "postgres"
		}
		u, err := user.Lookup(name)
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root needs the %q system user (created by Debian's postgresql package): %w", name, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		c.user = u.Username
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	out, err := c.command("initdb", "-D", c.dataDir(), "-U", c.user, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-instructions", "--no-sync").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	conf := map[string]string{
		"listen_addresses":        "''",
		"unix_socket_directories": "'" + c.SocketDir + "'",
		"port":                    strconv.Itoa(c.Port),
		"max_connections":         "300",
		"fsync":                   "on",
		"log_min_messages":        "warning",
		"logging_collector":       "off",
	}
	if c.opts.NoFsync {
		conf["fsync"] = "off"
		conf["synchronous_commit"] = "off"
		conf["full_page_writes"] = "off"
	}
	for k, v := range c.opts.Settings {
		conf[k] = v
	}
	var b strings.Builder
	b.WriteString("\n# pgtest\n")
	keys := make([]string, 0, len(conf))
	for k := range conf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, conf[k])
	}
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(b.String())
		f.Close()
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	return c, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

// LogFile is the server's log.
func (c *Cluster) LogFile() string { return filepath.Join(c.Dir, "server.log") }

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Env = []string{"LANG=C", "LC_ALL=C", "PATH=/usr/bin:/bin", "HOME=" + c.Dir}
	cmd.Dir = c.Dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

// Start starts the server and waits until it accepts connections. The
// server is a child of the test process that dies with it (parent-death
// signal), so a test killed by its timeout leaves no cluster behind.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		return nil
	}
	logf, err := os.OpenFile(c.LogFile(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logf.Close()
	if c.cred != nil {
		os.Chown(c.LogFile(), int(c.cred.Uid), int(c.cred.Gid))
	}
	cmd := c.command("postgres", "-D", c.dataDir())
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ready := c.command("pg_isready", "-q", "-h", c.SocketDir, "-p", strconv.Itoa(c.Port), "-U", c.user).Run() == nil
		if ready {
			break
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(c.LogFile())
			return fmt.Errorf("pgtest: postgres exited at start:\n%s", tail(log, 2000))
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return errors.New("pgtest: postgres not ready after 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.proc, c.exited = cmd, exited
	return nil
}

// Stop stops the server: mode "smart", "fast" (clean shutdown) or
// "immediate" (like a crash: recovery replays the WAL at the next start).
func (c *Cluster) Stop(mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return nil
	}
	sig := map[string]syscall.Signal{"smart": syscall.SIGTERM, "fast": syscall.SIGINT, "immediate": syscall.SIGQUIT, "": syscall.SIGINT}[mode]
	if sig == 0 {
		return fmt.Errorf("pgtest: stop mode %q", mode)
	}
	c.proc.Process.Signal(sig)
	select {
	case <-c.exited:
	case <-time.After(2 * time.Minute):
		c.proc.Process.Kill()
		<-c.exited
	}
	c.proc = nil
	return nil
}

// Restart stops (mode as for Stop) and starts the server again.
func (c *Cluster) Restart(mode string) error {
	if err := c.Stop(mode); err != nil {
		return err
	}
	return c.Start()
}

// Destroy stops the server and removes every file. It is idempotent.
func (c *Cluster) Destroy() {
	c.Stop("immediate")
	os.RemoveAll(c.Dir)
}

// CPUSeconds is the CPU time used so far by the server: the postmaster,
// its live children (backends, WAL writer, checkpointer…) and the children
// it reaped, read from /proc (benchmarks report CPU cost per result, which
// a shared machine's load does not distort the way wall time is).
func (c *Cluster) CPUSeconds() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return 0
	}
	pm := c.proc.Process.Pid
	total := ProcCPUSeconds(pm, true)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pm {
			continue
		}
		if ppid(pid) == pm {
			total += ProcCPUSeconds(pid, false)
		}
	}
	return total
}

// ProcCPUSeconds reads a process's user+system CPU time from
// /proc/PID/stat, with its reaped children's when children is set.
func ProcCPUSeconds(pid int, children bool) float64 {
	f := statFields(pid)
	if len(f) < 17 {
		return 0
	}
	// After the comm: [11] utime, [12] stime, [13] cutime, [14] cstime.
	sum, last := 0.0, 12
	if children {
		last = 14
	}
	for i := 11; i <= last; i++ {
		v, _ := strconv.ParseFloat(f[i], 64)
		sum += v
	}
	return sum / 100 // USER_HZ
}

func ppid(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// statFields are /proc/PID/stat's fields after "(comm)": state is [0].
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// User is the database superuser.
func (c *Cluster) User() string { return c.user }

// URL returns a connection string for database db over the Unix socket.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres:///%s?host=%s&port=%d&user=%s&sslmode=disable", db, c.SocketDir, c.Port, c.user)
}

// CreateDB creates database name (owned by the superuser) and returns its
// connection string.
func (c *Cluster) CreateDB(name string) (string, error) {
	cmd := c.command("createdb", "-h", c.SocketDir, "-p", strconv.Itoa(c.Port), "-U", c.user, name)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("pgtest: createdb %s: %v\n%s", name, err, out)
	}
	return c.URL(name), nil
}

// DB creates a fresh database for t and returns its connection string.
func (c *Cluster) DB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e9, dbSeq.add())
	u, err := c.CreateDB(name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}

var dbSeq counter

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

var shared struct {
	once sync.Once
	c    *Cluster
	err  error
}

// Shared returns one cluster for all the tests of a package, started on
// first use (tests take a fresh database each with DB). The package's
// TestMain must call Main, which destroys it. Like Start, it fails in CI
// and skips elsewhere when PostgreSQL is missing.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	shared.once.Do(func() {
		// CHECKPOINT_PG_NOFSYNC=1 runs the shared cluster without fsync,
		// to tell the disk's share of a benchmark from the CPU's.
		c, err := New(Options{NoFsync: os.Getenv("CHECKPOINT_PG_NOFSYNC") == "1"})
		if err == nil {
			if err = c.Start(); err != nil {
				c.Destroy()
			}
		}
		shared.c, shared.err = c, err
	})
	if shared.err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pgtest: %v", shared.err)
		}
		t.Skipf("pgtest: %v", shared.err)
	}
	return shared.c
}

// Main runs the tests and then destroys the shared cluster.
func Main(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		shared.c.Destroy()
	}
	os.Exit(code)
}
