package chip_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/chip/pcsc"
)

func TestPCSCClientTransmit(t *testing.T) {
	d := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := pcsc.Dial(ctx, d.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rs, err := cl.Readers(ctx)
	// vpcd offers two slots (ports P and P+1); the card goes in the first.
	if err != nil || len(rs) < 1 || rs[0].Name != d.Reader {
		t.Fatalf("readers %v, %v", rs, err)
	}
	if rs[0].Present() {
		t.Fatalf("card present before insertion: %+v", rs[0])
	}
	insert(t, d.Port, func(apdu []byte) []byte { return append(append([]byte{}, apdu...), 0x90, 0x00) })
	waitFor(t, "card present", func() bool {
		rs, err := cl.Readers(ctx)
		return err == nil && len(rs) > 0 && rs[0].Present()
	})
	rs, _ = cl.Readers(ctx)
	if !bytes.Equal(rs[0].ATR, []byte{0x3B, 0x80, 0x80, 0x01, 0x01}) {
		t.Errorf("ATR %X", rs[0].ATR)
	}
	k, err := cl.Connect(ctx, rs[0].Name, pcsc.ShareExclusive)
	if err != nil {
		t.Fatal(err)
	}
	// Extended length both ways.
	big := make([]byte, 7+3000)
	big[4], big[5], big[6] = 0, 0x0B, 0xB8
	resp, err := k.Transmit(ctx, big)
	if err != nil || len(resp) != len(big)+2 || !bytes.Equal(resp[len(resp)-2:], []byte{0x90, 0}) {
		t.Fatalf("transmit: %d bytes, %v", len(resp), err)
	}
	if err := k.Disconnect(ctx, pcsc.ResetCard); err != nil {
		t.Fatal(err)
	}
}
