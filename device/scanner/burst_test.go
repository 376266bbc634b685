package scanner_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/device/scanner/scannertest"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// TestSerialBurstSlowConsumer: documents written back-to-back while the
// consumer (the lane) stalls for several line timeouts at a time, with an
// input queue of the smallest size, so that it fills and reading pauses.
// Before issue 17's fix the port was read by the goroutine that waited for
// the consumer, and the stall was taken for the silence that ends a
// document: documents were split and the rest paired wrongly. Now every
// document arrives whole, none is rejected, and State says the queue
// filled.
func TestSerialBurstSlowConsumer(t *testing.T) {
	checkGoroutines(t)
	const n = 1500
	var stream []byte
	numbers := map[string]bool{}
	for i := range n {
		num := fmt.Sprintf("S%08d", i)
		numbers[num] = true
		lines, err := mrz.Generate(mrz.Spec{Format: mrz.FormatTD3, DocumentCode: "P", IssuingState: "UTO", Surname: "BURST",
			GivenNames: []string{"ANNA"}, DocumentNumber: num, Nationality: "UTO",
			BirthDate: time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC), ExpiryDate: time.Now().AddDate(3, 0, 0), Sex: "F"})
		if err != nil {
			t.Fatal(err)
		}
		stream = fmt.Appendf(stream, "%s\r\n%s\r\n", lines[0], lines[1])
	}
	pty := scannertest.NewPTY(t)
	// The stalls are longer than the line timeout, which is far longer
	// than any gap the scheduler opens in socat's relaying.
	s, err := scanner.Open(scanner.Config{Port: pty.Port, LineTimeout: time.Second, QueueBytes: scanner.MaxFrame,
		EventBuffer: 1, RepeatWindow: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		s.Close()
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !s.State().Connected {
		if time.Now().After(deadline) {
			t.Fatal("not connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
	go pty.Write(stream)

	got := 0
	timeout := time.After(120 * time.Second)
	for got < n {
		select {
		case ev := <-s.Events():
			if !ev.Document.Valid || !numbers[ev.Document.DocumentNumber] {
				t.Fatalf("document %d: valid %v, lines %q (state %+v)", got, ev.Document.Valid, ev.Lines, s.State().Decoder)
			}
			delete(numbers, ev.Document.DocumentNumber)
			got++
			if got%500 == 0 && got < n {
				time.Sleep(2500 * time.Millisecond) // the lane stalls for 2.5 line timeouts
			}
		case <-timeout:
			t.Fatalf("%d of %d documents within 120 s; state %+v", got, n, s.State())
		}
	}
	st := s.State()
	t.Logf("%d documents back-to-back through a %d-byte queue with the consumer stalling: %d events, decoder %+v, queue filled %d times",
		n, scanner.MaxFrame, st.Events, st.Decoder, st.QueueFulls)
	if st.Decoder.Rejected() != 0 || st.Decoder.Frames != n || st.QueueFulls == 0 || st.BytesRead != uint64(len(stream)) {
		t.Fatalf("state %+v", st)
	}
}
