package main

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pcsc "github.com/gballet/go-libpcsclite"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/issuer"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPKICommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"pki", "--out", dir, "--country", "utd"}, &out, &errb); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	for _, f := range []string{issuer.FileCSCA, issuer.FileMasterList, issuer.FileCRL, "ds.pem", "ds.key", "ds-rogue.pem", "ds-expired.key", issuer.FileRogueCSCA} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "ds.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("ds.key mode %v", st.Mode().Perm())
	}
	ds, err := issuer.LoadCertKey(filepath.Join(dir, "ds.pem"), filepath.Join(dir, "ds.key"))
	if err != nil || ds.Cert.Subject.Country[0] != "UTD" {
		t.Fatalf("DS: %v", err)
	}
	for _, args := range [][]string{{}, {"pki"}, {"nope"}, {"emulate"}} {
		if err := run(context.Background(), args, &out, &errb); cli.ExitCode(err) != 2 {
			t.Errorf("%q: exit %d (%v)", args, cli.ExitCode(err), err)
		}
	}
}

// emulate puts a chip into a real vpcd reader: a PC/SC client finds it,
// selects the application, and is refused DG1 before BAC.
func TestEmulateCommand(t *testing.T) {
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	dir := t.TempDir()
	var face bytes.Buffer
	jpeg.Encode(&face, image.NewGray(image.Rect(0, 0, 120, 160)), nil)
	os.WriteFile(filepath.Join(dir, "face.jpg"), face.Bytes(), 0o600)
	profile := `{
	  "traveller": {"issuing_state": "UTO", "surname": "ERIKSSON", "given_names": ["ANNA"],
	    "document_number": "L898902C", "nationality": "UTO", "birth_date": "1969-08-06",
	    "expiry_date": "2031-06-23", "sex": "F", "face": "face.jpg"},
	  "chip": {"aa_key": "ecdsa-p256", "pace": [{"suite": "AES-128", "curve": "P-256"}]},
	  "faults": {"response_delay": "1ms"}
	}`
	os.WriteFile(filepath.Join(dir, "chip.json"), []byte(profile), 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errb syncBuffer
	go func() {
		done <- run(ctx, []string{"emulate", "--vpcd", srv.VPCDAddr, "--profile", filepath.Join(dir, "chip.json"),
			"--pki", filepath.Join(dir, "pki")}, &out, &errb)
	}()
	client, err := pcsc.EstablishContext(srv.SocketPath, pcsc.ScopeSystem)
	if err != nil {
		t.Fatal(err)
	}
	defer client.ReleaseContext()
	var card *pcsc.Card
	deadline := time.Now().Add(30 * time.Second)
	for card == nil {
		if card, err = client.Connect(srv.Reader, pcsc.ShareShared, pcsc.ProtocolAny); err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("no card: %v\n%s", err, errb.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, tc := range []struct{ apdu, want string }{
		{"\x00\xA4\x04\x0C\x07\xA0\x00\x00\x02\x47\x10\x01", "\x90\x00"},
		{"\x00\xB0\x81\x00\x04", "\x69\x82"},
	} {
		resp, _, err := card.Transmit([]byte(tc.apdu))
		if err != nil || string(resp) != tc.want {
			t.Fatalf("% X: % X %v", tc.apdu, resp, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pki", issuer.FileMasterList)); err != nil {
		t.Fatalf("the PKI of the chip was not written: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("emulate did not stop")
	}
	if log := errb.String(); strings.Contains(log, "ERIKSSON") || strings.Contains(log, "L898902C") {
		t.Fatalf("personal data in the log:\n%s", log)
	}
	if !strings.Contains(out.String(), srv.VPCDAddr) {
		t.Fatalf("stdout %q", out.String())
	}
}
