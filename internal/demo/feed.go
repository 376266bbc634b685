package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.bug.st/serial"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
)

// FeedOptions configure Feed.
type FeedOptions struct {
	// Port is the scanner side of the PTY pair (the daemon reads the other).
	Port string
	// AdminSocket is the daemon's admin socket; "" or unreachable means
	// plain interval mode.
	AdminSocket string
	File        *File
	// Hold and FPS describe the video; 0 takes them from File.
	Hold time.Duration
	FPS  float64
	// Count stops after that many documents; 0 runs until ctx ends.
	Count int
	// Chips lays each traveller's passport chip on the virtual reader
	// before the MRZ is sent (nil: no chips).
	Chips *ChipFeeder
	// Report is told about every document sent.
	Report func(Sent)
	// Logger receives operational messages (no personal data); nil discards.
	Logger *slog.Logger
	// status reads the camera's frame counter; nil = the admin socket.
	status func(ctx context.Context) (uint64, error)
	// sleep waits; nil = a timer (tests replace both).
	sleep func(ctx context.Context, d time.Duration) error
	// write sends a framed document; nil = the serial port.
	write func([]byte) error
}

// Sent describes one document sent; it carries no personal data.
type Sent struct {
	N         int       `json:"n"`         // documents sent so far, 1-based
	Traveller int       `json:"traveller"` // 1-based, camera order
	Of        int       `json:"of"`
	Expect    string    `json:"expect"` // clear, or hit:<kinds>
	Frame     uint64    `json:"frame,omitempty"`
	Synced    bool      `json:"synced"`         // timed from the camera's frame counter
	Chip      string    `json:"chip,omitempty"` // the passport chip's role, if it has one
	At        time.Time `json:"at"`
}

// errNoFrame is returned by the status reader while the daemon's camera
// has not read a frame yet (Feed waits); a daemon without a camera is an
// ordinary error (Feed falls back to the interval).
var errNoFrame = errors.New("no camera frame yet")

// Feed sends each traveller's MRZ to the scanner while the looping video
// shows that traveller: it reads the camera's frame sequence number from the
// daemon's admin socket, works out which traveller is on screen (frames per
// traveller = hold × fps) and sends the document of the next traveller at
// the middle of their segment, so the capture window that the document opens
// sees the same person. Without the admin socket it sends one document per
// hold interval, in file order.
func Feed(ctx context.Context, o FeedOptions) error {
	if o.File == nil || len(o.File.Entries) == 0 {
		return fmt.Errorf("%w: no travellers", ErrOptions)
	}
	if o.Hold == 0 {
		o.Hold = o.File.Hold
	}
	if o.FPS == 0 {
		o.FPS = o.File.FPS
	}
	if o.Hold <= 0 || o.FPS <= 0 {
		return fmt.Errorf("%w: hold and fps are needed (flags, or the travellers file header)", ErrOptions)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.sleep == nil {
		o.sleep = sleepCtx
	}
	if o.status == nil && o.AdminSocket != "" {
		o.status = adminStatus(o.AdminSocket)
	}
	if o.write == nil {
		if o.Port == "" {
			return fmt.Errorf("%w: the scanner port is required", ErrOptions)
		}
		p, err := serial.Open(o.Port, &serial.Mode{BaudRate: 9600, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
		if err != nil {
			return fmt.Errorf("open %s: %w", o.Port, err)
		}
		defer p.Close()
		o.write = func(b []byte) error {
			if _, err := p.Write(b); err != nil {
				return err
			}
			return p.Drain()
		}
	}
	n := len(o.File.Entries)
	frames := max(int(o.Hold.Seconds()*o.FPS+0.5), 1)
	frame := time.Duration(float64(time.Second) / o.FPS)
	lastSeg := int64(-1)
	next := 0 // interval mode: next traveller in file order
	synced := false
	for sent := 0; o.Count == 0 || sent < o.Count; {
		if err := ctx.Err(); err != nil {
			return nil
		}
		var (
			i   int
			seq uint64
			ok  bool
		)
		if o.status != nil {
			s, err := o.status(ctx)
			switch {
			case err == nil:
				if !synced {
					o.Logger.Info("feed: following the camera", "frame", s)
				}
				synced = true
				seg, wait := nextSegment(s, frames, lastSeg)
				if wait > 0 {
					if err := o.sleep(ctx, time.Duration(wait)*frame); err != nil {
						return nil
					}
					continue // re-read the counter: the daemon's clock rules
				}
				lastSeg, i, seq, ok = seg, int(seg%int64(n)), s, true
			case errors.Is(err, errNoFrame):
				if err := o.sleep(ctx, 500*time.Millisecond); err != nil {
					return nil
				}
				continue
			default:
				if synced {
					o.Logger.Warn("feed: admin socket unavailable, sending at a fixed interval", "err", err)
				}
				synced = false
			}
		}
		if !ok {
			if sent > 0 || o.status != nil {
				if err := o.sleep(ctx, o.Hold); err != nil {
					return nil
				}
			}
			i = next
		}
		next = (i + 1) % n
		e := o.File.Entries[i]
		if o.Chips != nil {
			if err := o.Chips.Present(ctx, e.Index); err != nil {
				o.Logger.Warn("feed: chip not laid on the reader", "traveller", e.Index, "err", err)
			}
		}
		b, err := scanner.Encode(scanner.FramingLines, e.Lines)
		if err != nil {
			return fmt.Errorf("traveller %d: %w", e.Index, err)
		}
		if err := o.write(b); err != nil {
			return fmt.Errorf("write %s: %w", o.Port, err)
		}
		sent++
		if o.Report != nil {
			sn := Sent{N: sent, Traveller: e.Index, Of: n, Expect: e.Expect(), Frame: seq, Synced: ok, At: time.Now()}
			if o.Chips != nil {
				sn.Chip = o.Chips.Role(e.Index)
			}
			o.Report(sn)
		}
	}
	return nil
}

// nextSegment decides what to do at camera frame seq (1-based, counting
// across loops of the video) with frames per traveller: send now for the
// segment returned (wait 0), or wait that many frames first. A segment is
// sent once, in its middle half; the target is its middle.
func nextSegment(seq uint64, frames int, lastSeg int64) (seg int64, wait int) {
	idx := int64(seq) - 1
	if idx < 0 {
		idx = 0
	}
	f := int64(frames)
	seg, pos := idx/f, idx%f
	lo, mid, hi := f/4, f/2, (3*f)/4
	if seg > lastSeg {
		switch {
		case pos < lo:
			return seg, int(mid - pos)
		case pos <= hi:
			return seg, 0
		}
	}
	// Too late for this one, or already sent: the next traveller's middle.
	return seg + 1, int(f - pos + mid)
}

// adminStatus reads camera.seq from the daemon's admin socket.
func adminStatus(sock string) func(ctx context.Context) (uint64, error) {
	c := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}
	return func(ctx context.Context) (uint64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://admin/v1/status", nil)
		if err != nil {
			return 0, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("admin socket: %s", resp.Status)
		}
		var st struct {
			Camera *struct {
				Seq uint64 `json:"seq"`
			} `json:"camera"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil {
			return 0, fmt.Errorf("admin socket: %w", err)
		}
		if st.Camera == nil {
			return 0, errors.New("the daemon has no camera")
		}
		if st.Camera.Seq == 0 {
			return 0, errNoFrame
		}
		return st.Camera.Seq, nil
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
