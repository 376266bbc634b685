package camera

import (
	"encoding/json"
	"time"
)

// Status is the coarse health of a capture.
type Status int

const (
	// StatusIdle: Run has not been called yet.
	StatusIdle Status = iota
	// StatusOpening: the first attempt to open the source is under way.
	StatusOpening
	// StatusStreaming: frames are arriving.
	StatusStreaming
	// StatusReconnecting: the source failed or could not be opened; Run is
	// waiting out its backoff or trying again. State.Err says why.
	StatusReconnecting
	// StatusEnded: a non-looping file source was read to its end.
	StatusEnded
	// StatusStopped: Run returned because its context was cancelled.
	StatusStopped
	// StatusFailed: Run gave up after Config.MaxRetries; State.Err says why.
	StatusFailed
	// StatusClosed: Close was called.
	StatusClosed
)

var statusNames = [...]string{"idle", "opening", "streaming", "reconnecting", "ended", "stopped", "failed", "closed"}

func (s Status) String() string {
	if int(s) < len(statusNames) && s >= 0 {
		return statusNames[s]
	}
	return "unknown"
}

// MarshalText makes statuses readable in JSON health reports.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Format is what the driver or file actually delivers, read back after
// the requested settings were applied (drivers silently adjust them).
type Format struct {
	Width   int     `json:"width"`
	Height  int     `json:"height"`
	FPS     float64 `json:"fps"`
	FourCC  string  `json:"fourcc"`
	Backend string  `json:"backend"`
}

// State is a snapshot of a capture's health, for status pages and metrics.
type State struct {
	Status Status `json:"status"`
	// Source is Config.Device with any URL credentials removed.
	Source string     `json:"source"`
	Kind   SourceKind `json:"-"`
	// Format is the negotiated format of the current (or last) opening.
	Format Format `json:"format"`
	// Seq is the sequence number of the newest frame read (0: none yet).
	Seq uint64 `json:"seq"`
	// LastFrame is when the newest frame was read.
	LastFrame time.Time `json:"last_frame"`
	// Since is when Status last changed.
	Since time.Time `json:"since"`
	// Reconnects counts successful reopenings after a failure.
	Reconnects int `json:"reconnects"`
	// Failures counts consecutive failed attempts (0 while streaming).
	Failures int `json:"failures"`
	// Err is the last failure; it stays set after recovery, with ErrAt, so
	// that a health page can show the last incident.
	Err   error     `json:"-"`
	ErrAt time.Time `json:"err_at"`
	// NextRetry is when the next attempt is due while reconnecting.
	NextRetry time.Time `json:"next_retry"`
}

// MarshalJSON adds Err as a string.
func (s State) MarshalJSON() ([]byte, error) {
	type plain State
	var msg string
	if s.Err != nil {
		msg = s.Err.Error()
	}
	return json.Marshal(struct {
		plain
		Kind string `json:"kind"`
		Err  string `json:"error,omitempty"`
	}{plain(s), s.Kind.String(), msg})
}

// Healthy reports whether frames are flowing.
func (s State) Healthy() bool { return s.Status == StatusStreaming }
