package unit

import (
	"time"

	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// AdminSocket is the technician's socket name inside the state directory
// (mode 0600: the daemon's user and root only).
const AdminSocket = "admin.sock"

// LockoutFile keeps the officer page's sign-in lockouts across restarts,
// inside the state directory (keyed hashes and counts: no officer ids or
// addresses).
const LockoutFile = "signin-lockout.json"

// Status is what `GET /v1/status` on the admin socket returns: one screen
// for the technician. It holds states and counts, no personal data.
type Status struct {
	Version   string          `json:"version"`
	StartedAt time.Time       `json:"started_at"`
	Now       time.Time       `json:"now"`
	Health    lane.Health     `json:"health"`
	Scanner   *scanner.State  `json:"scanner,omitempty"`
	Camera    *camera.State   `json:"camera,omitempty"`
	Watchlist WatchlistStatus `json:"watchlist"`
	Outbox    *outbox.Status  `json:"outbox,omitempty"`
	Channels  []ChannelStatus `json:"channels,omitempty"`
	Disk      DiskStatus      `json:"disk"`
	Errors    []ErrorEntry    `json:"last_errors"`
}

// WatchlistStatus is the installed watchlist's version and freshness.
type WatchlistStatus struct {
	Meta            watchlist.Meta `json:"meta"`
	Age             string         `json:"age"`
	MaxAge          string         `json:"max_age"`
	Stale           bool           `json:"stale"`
	IntegrityErrors int64          `json:"integrity_errors"`
	FaceIndexLocked bool           `json:"face_index_locked"`
	LastSync        time.Time      `json:"last_sync,omitzero"`
	LastSyncError   string         `json:"last_sync_error,omitempty"`
}

// DiskStatus is the state directory's file system.
type DiskStatus struct {
	Path       string `json:"path"`
	FreeBytes  uint64 `json:"free_bytes"`
	TotalBytes uint64 `json:"total_bytes"`
	Low        bool   `json:"low"` // under 5% or 500 MB free
}

// ErrorEntry is one recent error, without personal data.
type ErrorEntry struct {
	At        time.Time `json:"at"`
	Component string    `json:"component"`
	Message   string    `json:"message"`
}
