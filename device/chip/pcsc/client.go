package pcsc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// DefaultSocket is pcscd's socket on Debian; PCSCLITE_CSOCK_NAME, when
// set, overrides it (as it does for libpcsclite).
const DefaultSocket = "/run/pcscd/pcscd.comm"

// SocketPath returns the socket named by PCSCLITE_CSOCK_NAME or the
// default.
func SocketPath() string {
	if p := os.Getenv("PCSCLITE_CSOCK_NAME"); p != "" {
		return p
	}
	return DefaultSocket
}

// Commands of pcsc-lite's protocol (winscard_msg.h).
const (
	cmdEstablishContext = 0x01
	cmdReleaseContext   = 0x02
	cmdConnect          = 0x04
	cmdDisconnect       = 0x06
	cmdTransmit         = 0x09
	cmdVersion          = 0x11
	cmdGetReadersState  = 0x12
)

// Sizes of the C structures exchanged.
const (
	maxReaderName   = 128
	maxATR          = 33
	maxReaders      = 16  // PCSCLITE_MAX_READERS_CONTEXTS
	readerStateSize = 184 // char[128], 3×uint32, uchar[33], pad 3, 2×uint32
	connectSize     = 4 + maxReaderName + 5*4
	transmitSize    = 8 * 4
	// maxRecv is MAX_BUFFER_SIZE_EXTENDED: a 64 KiB response and its
	// status word plus headers; pcscd refuses larger receive buffers.
	maxRecv = 4 + 3 + (1 << 16) + 3 + 2
)

// Share modes, protocols and dispositions.
const (
	ShareExclusive = 1
	ShareShared    = 2
	ProtocolT0     = 1
	ProtocolT1     = 2
	ProtocolAny    = ProtocolT0 | ProtocolT1
	LeaveCard      = 0
	ResetCard      = 1
	UnpowerCard    = 2
)

// Reader state bits (SCARD_* in pcsclite.h).
const (
	StateAbsent   = 0x0002
	StatePresent  = 0x0004
	StatePowered  = 0x0010
	StateSpecific = 0x0040
)

// ReaderState is one reader as the daemon sees it.
type ReaderState struct {
	Name         string
	EventCounter uint32 // card insertions and removals seen by pcscd
	State        uint32
	ATR          []byte
	Protocol     uint32
}

// Present reports whether a card is in the reader.
func (r ReaderState) Present() bool { return r.State&StatePresent != 0 }

// Client is one connection (and one PC/SC context) to pcscd.
type Client struct {
	path string
	mu   sync.Mutex
	conn net.Conn
	ctx  uint32
	err  error // set once broken or closed
}

// Dial connects to pcscd at path (SocketPath() if empty), negotiates the
// protocol version and establishes a context.
func Dial(ctx context.Context, path string) (*Client, error) {
	if path == "" {
		path = SocketPath()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %w", ErrNoDaemon, path, err)
	}
	c := &Client{path: path, conn: conn}
	if err := c.handshake(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func (c *Client) handshake(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	minor := uint32(4)
	for try := 0; ; try++ {
		var req [12]byte
		le.PutUint32(req[0:], 4)
		le.PutUint32(req[4:], minor)
		resp, err := c.call(ctx, cmdVersion, req[:], 12)
		if err != nil {
			return err
		}
		major, srvMinor, rv := le.Uint32(resp[0:]), le.Uint32(resp[4:]), Code(le.Uint32(resp[8:]))
		if rv == Success {
			break
		}
		if major != 4 || try > 0 || srvMinor == minor || srvMinor < 2 {
			return fmt.Errorf("%w: pcscd speaks %d.%d", ErrProtocol, major, srvMinor)
		}
		minor = srvMinor
	}
	var req [12]byte
	le.PutUint32(req[0:], 2) // SCARD_SCOPE_SYSTEM
	resp, err := c.call(ctx, cmdEstablishContext, req[:], 12)
	if err != nil {
		return err
	}
	if rv := Code(le.Uint32(resp[8:])); rv != Success {
		return &Error{Op: "establish context", Code: rv}
	}
	c.ctx = le.Uint32(resp[4:])
	return nil
}

var le = binary.LittleEndian

// call sends a command and reads a fixed-size answer; c.mu is held. Any
// transport failure breaks the client.
func (c *Client) call(ctx context.Context, cmd uint32, payload []byte, respLen int, extra ...[]byte) ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Time{}
	}
	c.conn.SetDeadline(deadline)
	// A context cancelled while we wait on the socket wakes the read.
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	n := len(payload)
	for _, e := range extra {
		n += len(e)
	}
	msg := make([]byte, 8, 8+n)
	le.PutUint32(msg[0:], uint32(len(payload)))
	le.PutUint32(msg[4:], cmd)
	msg = append(msg, payload...)
	for _, e := range extra {
		msg = append(msg, e...)
	}
	if _, err := c.conn.Write(msg); err != nil {
		return nil, c.breakWith(ctx, err)
	}
	resp := make([]byte, respLen)
	if _, err := io.ReadFull(c.conn, resp); err != nil {
		return nil, c.breakWith(ctx, err)
	}
	return resp, nil
}

func (c *Client) readMore(ctx context.Context, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(c.conn, b); err != nil {
		return nil, c.breakWith(ctx, err)
	}
	return b, nil
}

func (c *Client) breakWith(ctx context.Context, err error) error {
	if ce := ctx.Err(); ce != nil {
		err = ce
	}
	c.err = fmt.Errorf("%w: %w", ErrBroken, err)
	c.conn.Close()
	return c.err
}

// Err returns why the client is no longer usable, or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close releases the context and closes the socket; idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		if errors.Is(c.err, ErrClosed) {
			return nil
		}
		c.err = ErrClosed
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var req [8]byte
	le.PutUint32(req[0:], c.ctx)
	c.call(ctx, cmdReleaseContext, req[:], 8)
	c.conn.Close()
	c.err = ErrClosed
	return nil
}

// Readers returns the readers pcscd knows, in its order.
func (c *Client) Readers(ctx context.Context) ([]ReaderState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp, err := c.call(ctx, cmdGetReadersState, nil, maxReaders*readerStateSize)
	if err != nil {
		return nil, err
	}
	return parseReaderStates(resp), nil
}

// parseReaderStates decodes pcscd's READER_STATE array (C layout).
func parseReaderStates(b []byte) []ReaderState {
	var out []ReaderState
	for i := 0; i+readerStateSize <= len(b) && i < maxReaders*readerStateSize; i += readerStateSize {
		r := b[i : i+readerStateSize]
		name := r[:maxReaderName]
		if j := bytes.IndexByte(name, 0); j >= 0 {
			name = name[:j]
		}
		if len(name) == 0 {
			continue
		}
		atrLen := int(le.Uint32(r[176:]))
		if atrLen > maxATR {
			atrLen = maxATR
		}
		out = append(out, ReaderState{
			Name: string(name), EventCounter: le.Uint32(r[128:]), State: le.Uint32(r[132:]),
			ATR: append([]byte(nil), r[140:140+atrLen]...), Protocol: le.Uint32(r[180:]),
		})
	}
	return out
}

// Card is a connection to the card in one reader.
type Card struct {
	c        *Client
	handle   uint32
	protocol uint32
	reader   string
}

// Connect opens the card in the named reader.
func (c *Client) Connect(ctx context.Context, reader string, share uint32) (*Card, error) {
	if len(reader) >= maxReaderName {
		return nil, fmt.Errorf("pcsc: reader name longer than %d bytes", maxReaderName-1)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	req := make([]byte, connectSize)
	le.PutUint32(req[0:], c.ctx)
	copy(req[4:], reader)
	o := 4 + maxReaderName
	le.PutUint32(req[o:], share)
	le.PutUint32(req[o+4:], ProtocolAny)
	resp, err := c.call(ctx, cmdConnect, req, connectSize)
	if err != nil {
		return nil, err
	}
	if rv := Code(le.Uint32(resp[o+16:])); rv != Success {
		return nil, &Error{Op: "connect", Code: rv}
	}
	return &Card{c: c, handle: le.Uint32(resp[o+8:]), protocol: le.Uint32(resp[o+12:]), reader: reader}, nil
}

// Protocol is the active protocol (ProtocolT0 or ProtocolT1).
func (k *Card) Protocol() uint32 { return k.protocol }

// Transmit sends one APDU and returns the response with its status word.
func (k *Card) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu) > maxRecv {
		return nil, fmt.Errorf("pcsc: APDU of %d bytes too long", len(apdu))
	}
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	req := make([]byte, transmitSize)
	le.PutUint32(req[0:], k.handle)
	le.PutUint32(req[4:], k.protocol)
	le.PutUint32(req[8:], 8) // sizeof(SCARD_IO_REQUEST)
	le.PutUint32(req[12:], uint32(len(apdu)))
	le.PutUint32(req[16:], k.protocol)
	le.PutUint32(req[20:], 8)
	le.PutUint32(req[24:], maxRecv)
	resp, err := c.call(ctx, cmdTransmit, req, transmitSize, apdu)
	if err != nil {
		return nil, err
	}
	if rv := Code(le.Uint32(resp[28:])); rv != Success {
		return nil, &Error{Op: "transmit", Code: rv}
	}
	n := le.Uint32(resp[24:])
	if n > maxRecv {
		return nil, c.breakWith(ctx, fmt.Errorf("%w: response length %d", ErrProtocol, n))
	}
	return c.readMore(ctx, int(n))
}

// Disconnect closes the card connection with the given disposition.
func (k *Card) Disconnect(ctx context.Context, disposition uint32) error {
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var req [12]byte
	le.PutUint32(req[0:], k.handle)
	le.PutUint32(req[4:], disposition)
	resp, err := c.call(ctx, cmdDisconnect, req[:], 12)
	if err != nil {
		return err
	}
	if rv := Code(le.Uint32(resp[8:])); rv != Success {
		return &Error{Op: "disconnect", Code: rv}
	}
	return nil
}
