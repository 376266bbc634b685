// Package sdnotify tells systemd about the daemon's life: READY=1 once the
// store is open and the devices probed, STATUS= lines, STOPPING=1, and
// watchdog pings at half of WATCHDOG_USEC, sent only while the daemon
// reports itself healthy (so systemd restarts a wedged daemon). Outside
// systemd (no NOTIFY_SOCKET) every call is a no-op.
package sdnotify

import (
	"context"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Ready sends READY=1 with a status line.
func Ready(status string) error { return send(daemon.SdNotifyReady + "\nSTATUS=" + status) }

// Stopping sends STOPPING=1.
func Stopping() error { return send(daemon.SdNotifyStopping) }

// Status sends a STATUS= line shown by systemctl status.
func Status(s string) error { return send("STATUS=" + s) }

func send(state string) error {
	_, err := daemon.SdNotify(false, state)
	return err
}

// WatchdogInterval returns half of the watchdog timeout systemd asked for,
// or 0 when the watchdog is off.
func WatchdogInterval() time.Duration {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil || d <= 0 {
		return 0
	}
	return d / 2
}

// Watchdog pings systemd every interval while healthy() returns true, until
// ctx is done. With interval 0 it returns at once.
func Watchdog(ctx context.Context, interval time.Duration, healthy func() bool) error {
	if interval <= 0 {
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if healthy() {
				if err := send(daemon.SdNotifyWatchdog); err != nil {
					return err
				}
			}
		}
	}
}
