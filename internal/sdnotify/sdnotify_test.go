package sdnotify

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSystemd listens on a unixgram socket like systemd's notify socket.
func fakeSystemd(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	ch := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return ch
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
		return ""
	}
}

func TestReadyStatusStopping(t *testing.T) {
	ch := fakeSystemd(t)
	if err := Ready("store open, devices probed"); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, ch); !strings.Contains(m, "READY=1") || !strings.Contains(m, "STATUS=store open") {
		t.Fatalf("got %q", m)
	}
	Status("scanner down")
	if m := recv(t, ch); m != "STATUS=scanner down" {
		t.Fatalf("got %q", m)
	}
	Stopping()
	if m := recv(t, ch); m != "STOPPING=1" {
		t.Fatalf("got %q", m)
	}
}

func TestWatchdogPingsOnlyWhileHealthy(t *testing.T) {
	ch := fakeSystemd(t)
	t.Setenv("WATCHDOG_USEC", "40000") // 40 ms
	t.Setenv("WATCHDOG_PID", "")
	iv := WatchdogInterval()
	if iv != 20*time.Millisecond {
		t.Fatalf("interval = %v", iv)
	}
	var healthy atomic.Bool
	healthy.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- Watchdog(ctx, iv, healthy.Load) }()
	if m := recv(t, ch); m != "WATCHDOG=1" {
		t.Fatalf("got %q", m)
	}
	healthy.Store(false)
	time.Sleep(3 * iv) // let a ping already in flight land
	for len(ch) > 0 {
		<-ch
	}
	select {
	case m := <-ch:
		t.Fatalf("pinged while unhealthy: %q", m)
	case <-time.After(10 * iv):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestNoSystemdIsNoop(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	if err := Ready("x"); err != nil {
		t.Fatal(err)
	}
	if WatchdogInterval() != 0 {
		t.Fatal("watchdog on without systemd")
	}
	if err := Watchdog(context.Background(), 0, func() bool { return true }); err != nil {
		t.Fatal(err)
	}
}
