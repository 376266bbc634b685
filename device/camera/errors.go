package camera

import "errors"

var (
	// ErrConfig is returned when a Config is invalid; nothing was opened.
	ErrConfig = errors.New("camera: invalid config")
	// ErrOpen is returned (wrapped, and kept as the last error of the State)
	// when the source cannot be opened: no such device, device busy, file
	// missing or not a video.
	ErrOpen = errors.New("camera: cannot open source")
	// ErrRead is returned (wrapped, and kept as the last error of the State)
	// when an open source stops delivering frames: camera unplugged, driver
	// error, truncated or corrupt file.
	ErrRead = errors.New("camera: source stopped delivering frames")
	// ErrNoFrame is returned by Latest when no frame is available: capture
	// has not produced one yet, or the source failed and its last frame was
	// dropped so that a stale picture is never mistaken for a live one.
	ErrNoFrame = errors.New("camera: no frame available")
	// ErrEnded is returned by Next when a non-looping file source has been
	// read to its end and no newer frame will come.
	ErrEnded = errors.New("camera: end of stream")
	// ErrStopped is returned by Next when Run has returned and no newer
	// frame will come until Run is called again.
	ErrStopped = errors.New("camera: capture stopped")
	// ErrRetriesExhausted is returned by Run when Config.MaxRetries
	// consecutive attempts to (re)open the source have failed.
	ErrRetriesExhausted = errors.New("camera: retries exhausted")
	// ErrRunning is returned by Run when the Capture is already running.
	ErrRunning = errors.New("camera: already running")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("camera: closed")
	// ErrFormat is returned when a frame cannot be converted or encoded:
	// unsupported Mat type or image extension.
	ErrFormat = errors.New("camera: unsupported frame format")
)
