package web

import (
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/lane"
)

func TestChipPhotoRoute(t *testing.T) {
	f := newFixture(t)
	f.b.txs = append(f.b.txs, &lane.Transaction{ID: "tx2", State: "decided", Decision: lane.Refer,
		Chip:     &lane.ChipView{State: lane.ChipRead, Verdict: "failed", Line: "chip FAILED: DG1 does not match the signed hash", HasPhoto: true},
		ChipJPEG: []byte("\xff\xd8chip")})
	c := client(t)
	if code, _ := get(t, c, f.srv.URL+"/api/transactions/tx2/chip.jpg"); code != 401 {
		t.Fatalf("chip photo without session: %d", code)
	}
	if loc := login(t, f, c, "o1", "246810"); loc != "/" {
		t.Fatalf("login %q", loc)
	}
	if code, body := get(t, c, f.srv.URL+"/api/transactions/tx2/chip.jpg"); code != 200 || body != "\xff\xd8chip" {
		t.Fatalf("chip photo: %d", code)
	}
	if code, _ := get(t, c, f.srv.URL+"/api/transactions/tx1/chip.jpg"); code != 404 {
		t.Fatalf("no chip photo: %d", code)
	}
	if code, body := get(t, c, f.srv.URL+"/api/state"); code != 200 || !strings.Contains(body, "DG1 does not match the signed hash") {
		t.Fatalf("state lacks the chip line: %d", code)
	}
}
