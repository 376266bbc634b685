package unit

import (
	"testing"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
)

// TestScannerAlarm: a full input queue is an alarm on the page and in
// status; otherwise there is none.
func TestScannerAlarm(t *testing.T) {
	if a := scannerAlarm(scanner.State{QueueFull: true, QueueFulls: 1}); a == "" {
		t.Fatal("no alarm while the scanner's queue is full")
	}
	if a := scannerAlarm(scanner.State{QueueFulls: 4}); a != "" {
		t.Fatalf("alarm %q once the queue has room", a)
	}
}
