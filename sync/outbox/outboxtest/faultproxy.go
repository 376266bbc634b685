// Package outboxtest holds test doubles for links to the hub: a TCP fault
// proxy that drops, stalls or refuses connections, so uploads can be
// tested against a bad link with a real hub behind it.
package outboxtest

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// FaultProxy is a TCP proxy on 127.0.0.1 that, in chaos mode, drops
// connections after a random number of bytes or stalls them, and in block
// mode refuses everything (a cut link).
type FaultProxy struct {
	ln     net.Listener
	target atomic.Value // string
	// Chaos: connections take turns to stall, drop or pass.
	Chaos atomic.Bool
	// Block: every connection is closed at once (link down).
	Block atomic.Bool
	// StallFor bounds a stall (default 5 s).
	StallFor time.Duration
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]bool
	closed   bool
	Stats    struct{ Pass, Drop, Stall atomic.Int64 }
	Seq      atomic.Int64 // chaos connections so far
}

// NewFaultProxy listens on an ephemeral loopback port and forwards to
// target; t.Cleanup closes it.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{ln: ln, conns: map[net.Conn]bool{}, StallFor: 5 * time.Second}
	p.target.Store(target)
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's address.
func (p *FaultProxy) Addr() string { return p.ln.Addr().String() }

// SetTarget changes where new connections go.
func (p *FaultProxy) SetTarget(addr string) { p.target.Store(addr) }

// Reset cuts every open connection, as a link flap does.
func (p *FaultProxy) Reset() {
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

// Close stops the proxy and cuts every connection. It is idempotent.
func (p *FaultProxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *FaultProxy) track(c net.Conn, on bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		if p.closed {
			return false
		}
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
	return true
}

func (p *FaultProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c)
		}()
	}
}

func (p *FaultProxy) handle(c net.Conn) {
	defer c.Close()
	if !p.track(c, true) {
		return
	}
	defer p.track(c, false)
	if p.Block.Load() {
		p.Stats.Drop.Add(1)
		return
	}
	// In chaos mode connections take turns to stall, drop or pass, so
	// every kind of fault happens in every run (a random choice left
	// stalls out of one CI run); where a fault strikes is random: during
	// the handshake, mid-request (hub never sees the batch) or
	// mid-response (hub stored it, unit never hears so).
	mode, limit := 0, int64(1<<62)
	if p.Chaos.Load() {
		mode, limit = int(2-(p.Seq.Add(1)-1)%3), rand.Int64N(20000)
	}
	switch mode {
	case 0:
		p.Stats.Pass.Add(1)
		limit = 1 << 62
	case 1:
		p.Stats.Drop.Add(1)
	case 2:
		p.Stats.Stall.Add(1)
	}
	s, err := net.Dial("tcp", p.target.Load().(string))
	if err != nil {
		return
	}
	defer s.Close()
	if !p.track(s, true) {
		return
	}
	defer p.track(s, false)
	var budget atomic.Int64
	budget.Store(limit)
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 1024)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if budget.Add(-int64(n)) < 0 {
					if mode == 2 {
						// Stall: keep both ends open, forward nothing more,
						// until the client gives up or the test ends.
						c.SetReadDeadline(time.Now().Add(p.StallFor))
						io.Copy(io.Discard, c)
					}
					c.Close()
					s.Close()
					return
				}
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				c.Close()
				s.Close()
				return
			}
		}
	}
	done := make(chan struct{})
	go func() { pipe(s, c); close(done) }()
	pipe(c, s)
	<-done
}
