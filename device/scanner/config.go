package scanner

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.bug.st/serial"

	"github.com/checkpoint-edge/checkpoint/internal/backoff"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Config says which reader to open and how to read it. Zero values of the
// optional fields select the defaults documented on each field.
type Config struct {
	// Port is the device path (/dev/ttyUSB0, /dev/serial/by-id/…). Empty:
	// the reader is found by VID and PID.
	Port string `yaml:"port" json:"port"`
	// VID and PID are the reader's USB vendor and product IDs as 4 hex
	// digits ("0403"). Serial, if set, also matches the USB serial number,
	// to tell two identical readers apart. Used only when Port is empty.
	VID    string `yaml:"vid" json:"vid"`
	PID    string `yaml:"pid" json:"pid"`
	Serial string `yaml:"serial" json:"serial"`
	// Baud defaults to 9600, DataBits to 8, Parity to "none" (also "odd",
	// "even", "mark", "space"), StopBits to 1 (also 2).
	Baud     int    `yaml:"baud" json:"baud"`
	DataBits int    `yaml:"data_bits" json:"data_bits"`
	Parity   string `yaml:"parity" json:"parity"`
	StopBits int    `yaml:"stop_bits" json:"stop_bits"`
	// Framing is how the reader delimits documents; default FramingLines.
	Framing Framing `yaml:"framing" json:"framing"`
	// LineTimeout is the longest silence inside one document (see
	// DefaultLineTimeout, the default).
	LineTimeout time.Duration `yaml:"line_timeout" json:"line_timeout"`
	// RepeatWindow: a document with the same lines as the previous one,
	// starting within this time of its end, is marked Repeat. Default
	// DefaultRepeatWindow; negative disables repeat detection.
	RepeatWindow time.Duration `yaml:"repeat_window" json:"repeat_window"`
	// MRZ are the options every document is parsed with.
	MRZ mrz.Options `yaml:"-" json:"-"`
	// Backoff spaces reconnect attempts. Zero fields take DefaultBackoff's.
	Backoff Backoff `yaml:"backoff" json:"backoff"`
	// EventBuffer is the capacity of the Events channel; default 16. When
	// it is full, reading pauses (the kernel buffers the port) rather than
	// losing a document.
	EventBuffer int `yaml:"event_buffer" json:"event_buffer"`
	// QueueBytes bounds the bytes read from the port and not yet framed
	// (the lane is behind); default DefaultQueueBytes. When it is full,
	// reading pauses and State says so.
	QueueBytes int `yaml:"queue_bytes" json:"queue_bytes"`
	// Clock times backoff waits and stamps bytes. Default: the system clock.
	Clock Clock `yaml:"-" json:"-"`
	// Enumerate lists serial ports for VID/PID discovery. Default ListPorts;
	// tests point it at their own list since a PTY has no USB IDs.
	Enumerate func() ([]PortInfo, error) `yaml:"-" json:"-"`
}

// DefaultRepeatWindow is how long after a document the same document
// counts as scanned twice: long enough for an officer's second swipe.
const DefaultRepeatWindow = 10 * time.Second

var hexID = regexp.MustCompile(`^[0-9a-fA-F]{4}$`)

// Validate checks c without opening anything. Errors wrap ErrConfig.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	if c.Port == "" {
		if c.VID == "" || c.PID == "" {
			return bad("give a port, or a vid and pid")
		}
	}
	if c.VID != "" && !hexID.MatchString(c.VID) {
		return bad("vid %q: want 4 hex digits", c.VID)
	}
	if c.PID != "" && !hexID.MatchString(c.PID) {
		return bad("pid %q: want 4 hex digits", c.PID)
	}
	if c.Baud < 0 || c.Baud > 4_000_000 {
		return bad("baud %d out of range", c.Baud)
	}
	switch c.DataBits {
	case 0, 5, 6, 7, 8:
	default:
		return bad("data bits %d: want 5, 6, 7 or 8", c.DataBits)
	}
	if _, err := parseParity(c.Parity); err != nil {
		return bad("%v", err)
	}
	switch c.StopBits {
	case 0, 1, 2:
	default:
		return bad("stop bits %d: want 1 or 2", c.StopBits)
	}
	if c.Framing < 0 || int(c.Framing) >= len(framingNames) {
		return bad("framing %d: want one of %s", int(c.Framing), FramingNames())
	}
	if c.LineTimeout < 0 {
		return bad("line timeout %v is negative", c.LineTimeout)
	}
	if c.EventBuffer < 0 {
		return bad("event buffer %d is negative", c.EventBuffer)
	}
	if c.QueueBytes < 0 || (c.QueueBytes > 0 && c.QueueBytes < MaxFrame) || c.QueueBytes > 1<<30 {
		return bad("queue bytes %d: want %d to %d", c.QueueBytes, MaxFrame, 1<<30)
	}
	if err := c.Backoff.validate(); err != nil {
		return bad("%v", err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Baud == 0 {
		c.Baud = 9600
	}
	if c.DataBits == 0 {
		c.DataBits = 8
	}
	if c.Parity == "" {
		c.Parity = "none"
	}
	if c.StopBits == 0 {
		c.StopBits = 1
	}
	if c.LineTimeout == 0 {
		c.LineTimeout = DefaultLineTimeout
	}
	if c.RepeatWindow == 0 {
		c.RepeatWindow = DefaultRepeatWindow
	}
	if c.EventBuffer == 0 {
		c.EventBuffer = 16
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	c.Backoff = c.Backoff.withDefaults()
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Enumerate == nil {
		c.Enumerate = ListPorts
	}
	c.VID, c.PID = strings.ToLower(c.VID), strings.ToLower(c.PID)
	return c
}

func parseParity(s string) (serial.Parity, error) {
	switch strings.ToLower(s) {
	case "", "none", "n":
		return serial.NoParity, nil
	case "odd", "o":
		return serial.OddParity, nil
	case "even", "e":
		return serial.EvenParity, nil
	case "mark", "m":
		return serial.MarkParity, nil
	case "space", "s":
		return serial.SpaceParity, nil
	}
	return 0, fmt.Errorf("parity %q: want none, odd, even, mark or space", s)
}

func (c Config) mode() *serial.Mode {
	p, _ := parseParity(c.Parity)
	sb := serial.OneStopBit
	if c.StopBits == 2 {
		sb = serial.TwoStopBits
	}
	return &serial.Mode{BaudRate: c.Baud, DataBits: c.DataBits, Parity: p, StopBits: sb}
}

// Backoff spaces reconnect attempts (see backoff.Policy); zero fields take
// DefaultBackoff's.
type Backoff backoff.Policy

// DefaultBackoff suits a USB reader: a replug is picked up within a
// quarter second, an absent reader is polled every 5 s.
var DefaultBackoff = Backoff{Initial: 250 * time.Millisecond, Max: 5 * time.Second, Factor: 2}

func (b Backoff) withDefaults() Backoff {
	return Backoff(backoff.Policy(b).Or(backoff.Policy(DefaultBackoff)))
}

func (b Backoff) validate() error { return backoff.Policy(b).Validate() }

// Delay is the wait before the attempt following the n-th consecutive
// failure (n >= 1).
func (b Backoff) Delay(n int) time.Duration { return backoff.Policy(b.withDefaults()).Delay(n) }

// Clock is the time source, replaceable in tests.
type Clock = backoff.Clock

// SystemClock is the real clock.
type SystemClock = backoff.SystemClock
