package chipsim

import (
	"bytes"
	"errors"
	"runtime"
	"testing"
	"time"

	pcsc "github.com/gballet/go-libpcsclite"

	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
)

// End-to-end through a private pcscd with the vpcd reader: the emulator is
// the card, the test terminal talks PC/SC like a reader application.

// pcscConnect connects to the reader, waiting (bounded) for pcscd to see the
// card; pcscd polls presence every 400 ms or so.
func pcscConnect(t testing.TB, srv *pcsctest.Server) (*pcsc.Client, *pcsc.Card) {
	t.Helper()
	client, err := pcsc.EstablishContext(srv.SocketPath, pcsc.ScopeSystem)
	if err != nil {
		t.Fatalf("establish context: %v", err)
	}
	t.Cleanup(func() { client.ReleaseContext() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		card, err := client.Connect(srv.Reader, pcsc.ShareShared, pcsc.ProtocolAny)
		if err == nil {
			return client, card
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect %q: %v", srv.Reader, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyTerminal connects and selects the eMRTD application, retrying
// (bounded) while pcscd has not yet taken a re-inserted card: vpcd accepts
// it at the next presence poll, and until then transmits fail.
func readyTerminal(t testing.TB, srv *pcsctest.Server) *terminal {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, pc := pcscConnect(t, srv)
		tm := &terminal{t: t, tx: pcscTx(pc)}
		_, sw, err := tm.sendErr(Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: AID})
		if err == nil && sw == swOK {
			return tm
		}
		if time.Now().After(deadline) {
			t.Fatalf("card not usable after re-insertion: %04X %v", sw, err)
		}
		pc.Disconnect(pcsc.LeaveCard)
		time.Sleep(100 * time.Millisecond)
	}
}

func pcscTx(card *pcsc.Card) transmitter {
	return func(apdu []byte) ([]byte, error) {
		resp, _, err := card.Transmit(apdu)
		return resp, err
	}
}

func startEmulator(t testing.TB, srv *pcsctest.Server, card *Card) *Emulator {
	t.Helper()
	em := NewEmulator(srv.VPCDAddr, card, nil)
	if err := em.Insert(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	return em
}

func TestEmulatorBACThroughPCSCD(t *testing.T) {
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	files := testFiles(t)
	card := newTestCard(t, func(c *Config) { c.Files = files })
	em := startEmulator(t, srv, card)
	_, pc := pcscConnect(t, srv)
	tm := &terminal{t: t, tx: pcscTx(pc)}

	if sw := tm.selectApp(); sw != swOK {
		t.Fatalf("select: %04X", sw)
	}
	if _, sw := tm.send(Command{INS: 0xB0, P1: 0x81, Ne: 4}); sw != swSecurityStatus {
		t.Fatalf("DG1 before BAC: %04X", sw)
	}
	if sw := tm.bac(specimenKey, nil, nil); sw != swOK {
		t.Fatalf("BAC: %04X", sw)
	}
	for _, f := range []struct {
		name string
		fid  uint16
	}{{"COM", 0x011E}, {"DG1", 0x0101}, {"DG2", 0x0102}, {"SOD", 0x011D}, {"DG3", 0x0103}} {
		got, sw := tm.readFile(f.fid, 4096)
		if sw != swOK || !bytes.Equal(got, files[f.name]) {
			t.Fatalf("%s: %04X, %d of %d bytes", f.name, sw, len(got), len(files[f.name]))
		}
	}

	// Taking the card out: the reader's next command fails.
	if err := em.Remove(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, _, err := tm.sendErr(Command{INS: 0x84, Ne: 8}); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the card still answers after removal")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A card that leaves the field in the middle of DG2 and comes back: the
// reader sees the transmit fail, reconnects, opens a new session and resumes
// at the offset it had reached.
func TestEmulatorRemovedMidRead(t *testing.T) {
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	files := testFiles(t)
	card := newTestCard(t, func(c *Config) {
		c.Files = files
		c.Faults.RemoveAfterReads = 6
		c.Faults.RemovedFor = Duration(300 * time.Millisecond)
	})
	em := startEmulator(t, srv, card)
	_, pc := pcscConnect(t, srv)
	tm := &terminal{t: t, tx: pcscTx(pc)}
	tm.selectApp()
	if sw := tm.bac(specimenKey, nil, nil); sw != swOK {
		t.Fatalf("BAC: %04X", sw)
	}
	tm.selectEF(0x0102)
	var got []byte
	var failedAt = -1
	for len(got) < len(files["DG2"]) {
		data, sw, err := tm.sendErr(Command{INS: 0xB0, P1: byte(len(got) >> 8), P2: byte(len(got)), Ne: 0xDF})
		if err != nil {
			failedAt = len(got)
			break
		}
		if sw != swOK {
			t.Fatalf("read at %d: %04X", len(got), sw)
		}
		got = append(got, data...)
	}
	if failedAt != 5*0xDF {
		t.Fatalf("the read failed at %d, want at the 6th READ BINARY (offset %d)", failedAt, 5*0xDF)
	}
	// Back in the field after the pause: a fresh chip, a new session.
	deadline := time.Now().Add(20 * time.Second)
	for em.Inserts() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("card not re-inserted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm = readyTerminal(t, srv)
	if sw := tm.bac(specimenKey, nil, nil); sw != swOK {
		t.Fatalf("BAC after re-insertion: %04X", sw)
	}
	tm.selectEF(0x0102)
	for len(got) < len(files["DG2"]) {
		data, sw := tm.send(Command{INS: 0xB0, P1: byte(len(got) >> 8), P2: byte(len(got)), Ne: 0xDF})
		if sw != swOK {
			t.Fatalf("resumed read at %d: %04X", len(got), sw)
		}
		got = append(got, data...)
	}
	if !bytes.Equal(got, files["DG2"]) {
		t.Fatal("resumed DG2 differs")
	}
}

func TestEmulatorSlowResponses(t *testing.T) {
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	card := newTestCard(t, func(c *Config) { c.Faults.ResponseDelay = Duration(150 * time.Millisecond) })
	startEmulator(t, srv, card)
	_, pc := pcscConnect(t, srv)
	tm := &terminal{t: t, tx: pcscTx(pc)}
	start := time.Now()
	if _, sw := tm.send(Command{INS: 0x84, Ne: 8}); sw != swOK {
		t.Fatalf("GET CHALLENGE: %04X", sw)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("answered in %v despite a 150 ms delay", d)
	}
}

// Insertion and removal in a loop leave no goroutine behind.
func TestEmulatorInsertRemoveLoop(t *testing.T) {
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	card := newTestCard(t, nil)
	em := NewEmulator(srv.VPCDAddr, card, nil)
	defer em.Close()
	before := runtime.NumGoroutine()
	for i := 0; i < 10; i++ {
		if err := em.Insert(); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
		if err := em.Insert(); !errors.Is(err, ErrInserted) {
			t.Fatalf("second insert: %v", err)
		}
		if err := em.Remove(); err != nil {
			t.Fatalf("remove %d: %v", i, err)
		}
	}
	if err := em.Remove(); !errors.Is(err, ErrNotInserted) {
		t.Fatalf("remove when out: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines %d, were %d", runtime.NumGoroutine(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The card still works after the loop.
	if err := em.Insert(); err != nil {
		t.Fatal(err)
	}
	_, pc := pcscConnect(t, srv)
	tm := &terminal{t: t, tx: pcscTx(pc)}
	tm.selectApp()
	if sw := tm.bac(specimenKey, nil, nil); sw != swOK {
		t.Fatalf("BAC after the loop: %04X", sw)
	}
}

// vpcd sends the length and the payload of each message in two segments
// with Nagle's algorithm on; without TCP_QUICKACK on the emulator's side
// every APDU waits for a delayed ACK (40 ms). The fastest of 30 round trips
// must be far below that, however busy the machine.
func TestEmulatorNoDelayedAckStall(t *testing.T) {
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	startEmulator(t, srv, newTestCard(t, nil))
	_, pc := pcscConnect(t, srv)
	fastest := time.Hour
	for i := 0; i < 30; i++ {
		start := time.Now()
		if _, _, err := pc.Transmit([]byte{0, 0x84, 0, 0, 8}); err != nil {
			t.Fatal(err)
		}
		fastest = min(fastest, time.Since(start))
	}
	if fastest >= 20*time.Millisecond {
		t.Fatalf("fastest APDU round trip %v: the delayed-ACK stall is back", fastest)
	}
}
