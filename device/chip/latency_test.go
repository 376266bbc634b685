package chip_test

import (
	"context"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/chip"
)

func TestAPDULatency(t *testing.T) {
	d := startDaemon(t)
	r := runReader(t, chip.Config{Socket: d.Socket, Reader: d.Reader, Poll: 20 * time.Millisecond})
	insert(t, d.Port, echo)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := r.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	for i := 0; i < 50; i++ {
		if _, err := c.Transmit(ctx, []byte{0, 0xB0, 0, 0, 0xDF}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("50 APDUs: %v per APDU", time.Since(start)/50)
}
