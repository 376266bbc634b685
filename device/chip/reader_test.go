package chip_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/chip"
)

func runReader(t *testing.T, cfg chip.Config) *chip.PCSC {
	t.Helper()
	r, err := chip.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	t.Cleanup(func() {
		r.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

func echo(apdu []byte) []byte { return append(append([]byte{}, apdu...), 0x90, 0x00) }

func TestReaderEventsAndTransmit(t *testing.T) {
	d := startDaemon(t)
	r := runReader(t, chip.Config{Socket: d.Socket, Reader: d.Reader, Poll: 20 * time.Millisecond})
	waitFor(t, "reader", func() bool { return r.State().Healthy() })
	if r.State().CardPresent {
		t.Fatal("card present before insertion")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := r.Wait(ctx)
	cancel()
	if !errors.Is(err, chip.ErrNoCard) {
		t.Fatalf("Wait without card: %v", err)
	}

	card := insert(t, d.Port, echo)
	ctx, cancel = context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := r.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x04, 0x0C, 0x01, 0xAA})
	if err != nil || len(resp) != 8 {
		t.Fatalf("transmit %X %v", resp, err)
	}
	card.remove()
	_, err = c.Transmit(ctx, []byte{0x00, 0xB0, 0x00, 0x00, 0x00})
	if !errors.Is(err, chip.ErrCardRemoved) {
		t.Fatalf("transmit after removal: %v", err)
	}
	c.Close()
	waitFor(t, "removal seen", func() bool { return !r.State().CardPresent })

	var kinds []string
	timeout := time.After(5 * time.Second)
	for len(kinds) < 3 {
		select {
		case ev := <-r.Events():
			kinds = append(kinds, ev.Kind)
		case <-timeout:
			t.Fatalf("events so far %v", kinds)
		}
	}
	want := []string{chip.ReaderAdded, chip.CardInserted, chip.CardRemoved}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events %v, want %v", kinds, want)
		}
	}
	st := r.State()
	if st.Insertions != 1 || st.Removals != 1 {
		t.Errorf("counters %+v", st)
	}
}

func TestReaderAPDUTimeout(t *testing.T) {
	d := startDaemon(t)
	r := runReader(t, chip.Config{Socket: d.Socket, Reader: d.Reader, Poll: 20 * time.Millisecond, APDUTimeout: 300 * time.Millisecond})
	insert(t, d.Port, func(apdu []byte) []byte { return nil }) // never answers
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := r.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, err = c.Transmit(ctx, []byte{0x00, 0x84, 0x00, 0x00, 0x08})
	if !errors.Is(err, chip.ErrTimeout) {
		t.Fatalf("silent card: %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("timeout took %v", el)
	}
}

func TestReaderSurvivesDaemonRestart(t *testing.T) {
	d := startDaemon(t)
	r := runReader(t, chip.Config{Socket: d.Socket, Reader: d.Reader, Poll: 20 * time.Millisecond})
	waitFor(t, "reader", func() bool { return r.State().Healthy() })
	d.stop()
	waitFor(t, "pcscd down seen", func() bool { return !r.State().Connected })
	if err := r.State().Err; !errors.Is(err, chip.ErrDaemon) {
		t.Fatalf("state error %v", err)
	}
	d2 := restartDaemon(t, d)
	waitFor(t, "reconnected", func() bool { return r.State().Healthy() })
	insert(t, d2.Port, echo)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := r.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if r.State().Reconnects < 1 {
		t.Errorf("reconnects %d", r.State().Reconnects)
	}
}

// TestReaderNoGrowth inserts and removes a card many times: no goroutine
// may be left behind.
func TestReaderNoGrowth(t *testing.T) {
	d := startDaemon(t)
	r := runReader(t, chip.Config{Socket: d.Socket, Reader: d.Reader, Poll: 10 * time.Millisecond})
	waitFor(t, "reader", func() bool { return r.State().Healthy() })
	n := 20
	if testing.Short() {
		n = 5
	}
	var base int
	for i := 0; i < n; i++ {
		card := insert(t, d.Port, echo)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		c, err := r.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Transmit(ctx, []byte{0, 0xB0, 0, 0, 4}); err != nil {
			t.Fatal(err)
		}
		c.Close()
		cancel()
		card.remove()
		waitFor(t, "removed", func() bool { return !r.State().CardPresent })
		if i == 1 {
			base = runtime.NumGoroutine()
		}
	}
	time.Sleep(100 * time.Millisecond)
	if g := runtime.NumGoroutine(); g > base+2 {
		t.Errorf("goroutines grew from %d to %d over %d cards", base, g, n)
	}
}
