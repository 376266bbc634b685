package chiptest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/chip"
	"github.com/checkpoint-edge/checkpoint/device/chip/chiptest"
)

func TestFakeInsertRemove(t *testing.T) {
	f := chiptest.NewFake()
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if _, err := f.Wait(ctx); !errors.Is(err, chip.ErrNoCard) {
		t.Fatalf("no card: %v", err)
	}
	cancel()
	go func() {
		time.Sleep(10 * time.Millisecond)
		f.Insert(func(a []byte) ([]byte, error) { return []byte{0x90, 0}, nil })
	}()
	c, err := f.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.Transmit(context.Background(), []byte{0, 0xA4, 0, 0}); err != nil || len(r) != 2 {
		t.Fatalf("%X %v", r, err)
	}
	f.Remove()
	if _, err := c.Transmit(context.Background(), []byte{0, 0xA4, 0, 0}); !errors.Is(err, chip.ErrCardRemoved) {
		t.Fatalf("after removal: %v", err)
	}
	if ev := <-f.Events(); ev.Kind != chip.CardInserted {
		t.Fatalf("event %v", ev)
	}
	if ev := <-f.Events(); ev.Kind != chip.CardRemoved {
		t.Fatalf("event %v", ev)
	}
}
