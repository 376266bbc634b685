package chipsim

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// tlvFile makes a TLV-encoded file of about size bytes with random content.
func tlvFile(tag uint32, size int) []byte {
	v := make([]byte, size)
	rand.Read(v)
	return lds.EncodeTLV(tag, v)
}

// testFiles is a small LDS: EF.COM, DG1, a 20 KB DG2, a 40 KB DG3 (read
// past 32 KiB with odd INS), EF.SOD and an EF.CardAccess.
func testFiles(t testing.TB) map[string][]byte {
	return map[string][]byte{
		FileCOM:        unhex(t, specimenCOM),
		"DG1":          lds.EncodeTLV(0x61, lds.EncodeTLV(0x5F1F, []byte("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C<3UTO6908061F9406236ZE184226B<<<<<10"))),
		"DG2":          tlvFile(0x75, 20000),
		"DG3":          tlvFile(0x63, 40000),
		FileSOD:        tlvFile(0x77, 1800),
		FileCardAccess: unhex(t, "31143012060A04007F0007020204020202010202010D"),
	}
}

func newTestCard(t testing.TB, mutate func(*Config)) *Card {
	t.Helper()
	cfg := Config{MRZ: specimenKey, Files: testFiles(t)}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := NewCard(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func direct(c *Card) transmitter {
	return func(apdu []byte) ([]byte, error) { return c.Process(apdu), nil }
}

func TestAccessControlBeforeAuthentication(t *testing.T) {
	card := newTestCard(t, nil)
	tm := &terminal{t: t, tx: direct(card)}
	// EF.CardAccess is in the master file and free to read.
	ca, sw := tm.readFile(0x011C, 200)
	if sw != swOK || !bytes.Equal(ca, testFiles(t)[FileCardAccess]) {
		t.Fatalf("EF.CardAccess: %04X % X", sw, ca)
	}
	if _, sw := tm.send(Command{INS: 0xB0, P1: 0x9C, Ne: 4}); sw != swOK {
		t.Fatalf("READ BINARY by SFI 1C: %04X", sw)
	}
	// The LDS files are not in the master file.
	if sw := tm.selectEF(0x011E); sw != swFileNotFound {
		t.Fatalf("EF.COM selected outside the application: %04X", sw)
	}
	if sw := tm.selectApp(); sw != swOK {
		t.Fatalf("SELECT application: %04X", sw)
	}
	if sw := tm.selectEF(0x011C); sw != swFileNotFound {
		t.Fatalf("EF.CardAccess inside the application: %04X", sw)
	}
	for _, c := range []Command{
		{INS: 0xB0, P1: 0x81, Ne: 4},                // DG1 by SFI
		{INS: 0xB0, P1: 0x9E, Ne: 4},                // EF.COM by SFI
		{INS: 0xB0, P1: 0x9D, Ne: 4},                // EF.SOD by SFI
		{INS: 0x88, Data: make([]byte, 8), Ne: 256}, // AA
	} {
		if _, sw := tm.send(c); sw != swSecurityStatus && !(c.INS == 0x88 && sw == swINSNotSupported) {
			t.Errorf("%02X %02X before BAC: %04X, want 6982", c.INS, c.P1, sw)
		}
	}
	if sw := tm.selectEF(0x0101); sw != swOK {
		t.Fatalf("SELECT DG1 before BAC: %04X", sw)
	}
	if _, sw := tm.send(Command{INS: 0xB0, Ne: 4}); sw != swSecurityStatus {
		t.Fatalf("READ BINARY DG1 before BAC: %04X", sw)
	}
	if _, sw := tm.send(Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: []byte{0xA0, 0, 0, 2, 0x47, 0x10, 0x02}}); sw != swFileNotFound {
		t.Fatalf("unknown AID: %04X", sw)
	}
}

func TestBACRefusals(t *testing.T) {
	wrong := MRZKey{DocumentNumber: "L898902C", DateOfBirth: "690806", DateOfExpiry: "940624"}
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		key    MRZKey
		want   uint16
	}{
		{"wrong MRZ", nil, wrong, swAuthFailed},
		{"refuse BAC fault", func(c *Config) { c.Faults.RefuseBAC = true }, specimenKey, swAuthFailed},
		{"PACE-only chip", func(c *Config) { c.DisableBAC = true }, specimenKey, swINSNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card := newTestCard(t, tc.mutate)
			tm := &terminal{t: t, tx: direct(card)}
			tm.selectApp()
			if sw := tm.bac(tc.key, nil, nil); sw != tc.want {
				t.Fatalf("BAC: %04X, want %04X", sw, tc.want)
			}
			if tm.sm != nil {
				t.Fatal("session opened")
			}
			// A second MUTUAL AUTHENTICATE needs a new challenge.
			if _, sw := tm.send(Command{INS: 0x82, Data: make([]byte, 40), Ne: 40}); sw != swConditionsNotSat && sw != swINSNotSupported {
				t.Fatalf("MUTUAL AUTHENTICATE without challenge: %04X", sw)
			}
			if _, sw := tm.send(Command{INS: 0xB0, P1: 0x81, Ne: 4}); sw != swSecurityStatus {
				t.Fatalf("DG1 after refused BAC: %04X", sw)
			}
		})
	}
	// The right MRZ after a wrong one works (no lock-out).
	card := newTestCard(t, nil)
	tm := &terminal{t: t, tx: direct(card)}
	tm.selectApp()
	tm.bac(wrong, nil, nil)
	if sw := tm.bac(specimenKey, nil, nil); sw != swOK {
		t.Fatalf("right MRZ after a wrong one: %04X", sw)
	}
}

func TestReadAfterBAC(t *testing.T) {
	files := testFiles(t)
	card := newTestCard(t, func(c *Config) { c.Files = files })
	tm := &terminal{t: t, tx: direct(card)}
	tm.selectApp()
	if sw := tm.bac(specimenKey, nil, nil); sw != swOK {
		t.Fatalf("BAC: %04X", sw)
	}
	for _, tc := range []struct {
		name  string
		fid   uint16
		chunk int
	}{
		{"COM", 0x011E, 0xDF},
		{"DG1", 0x0101, 0xDF},
		{"DG2", 0x0102, 0xDF},
		{"DG2", 0x0102, 4096},  // extended Le
		{"DG2", 0x0102, 65536}, // Le 0000: as much as the chip gives
		{"DG3", 0x0103, 1000},  // past 32 KiB with odd INS
		{"SOD", 0x011D, 256},
	} {
		got, sw := tm.readFile(tc.fid, tc.chunk)
		if sw != swOK || !bytes.Equal(got, files[tc.name]) {
			t.Fatalf("%s in chunks of %d: %04X, %d bytes of %d", tc.name, tc.chunk, sw, len(got), len(files[tc.name]))
		}
	}
	// SFI read selects the file; offsets past the end are refused.
	if data, sw := tm.send(Command{INS: 0xB0, P1: 0x81, P2: 2, Ne: 3}); sw != swOK || !bytes.Equal(data, files["DG1"][2:5]) {
		t.Fatalf("SFI read: %04X % X", sw, data)
	}
	if _, sw := tm.send(Command{INS: 0xB0, P1: 0x01, P2: 0x00, Ne: 8}); sw != swOffsetOutside {
		t.Fatalf("offset 256 in DG1 of %d bytes: %04X", len(files["DG1"]), sw)
	}
	if sw := tm.selectEF(0x0105); sw != swFileNotFound {
		t.Fatalf("absent DG5: %04X", sw)
	}
	if _, sw := tm.send(Command{INS: 0xCA, Ne: 0}); sw != swINSNotSupported {
		t.Fatalf("unknown INS: %04X", sw)
	}
	// A short Le never yields more than 256 bytes, an extended one at most
	// MaxExtendedRead.
	tm.selectEF(0x0102)
	if data, _ := tm.send(Command{INS: 0xB0, Ne: 256}); len(data) != 256 {
		t.Fatalf("short Le 00 read %d bytes", len(data))
	}
	if data, _ := tm.send(Command{INS: 0xB0, Ne: 65536, Extended: true}); len(data) != 4096 {
		t.Fatalf("extended Le 0000 read %d bytes", len(data))
	}
}

func TestSecureMessagingErrorsEndTheSession(t *testing.T) {
	card := newTestCard(t, nil)
	tm := &terminal{t: t, tx: direct(card)}
	tm.selectApp()
	tm.bac(specimenKey, nil, nil)

	// A wrong MAC: 6988 in the clear, then no session.
	raw := tm.sm.wrap(Command{INS: 0xB0, P1: 0x81, Ne: 4})
	raw[len(raw)-2] ^= 1
	resp := card.Process(raw)
	if !bytes.Equal(resp, []byte{0x69, 0x88}) {
		t.Fatalf("bad MAC answered % X", resp)
	}
	resp = card.Process(tm.sm.wrap(Command{INS: 0xB0, P1: 0x81, Ne: 4}))
	if !bytes.Equal(resp, []byte{0x68, 0x82}) {
		t.Fatalf("SM after the session ended answered % X", resp)
	}

	// No DO'8E': 6987.
	tm.sm = nil
	tm.bac(specimenKey, nil, nil)
	resp = card.Process([]byte{0x0C, 0xB0, 0x81, 0x00, 0x03, 0x97, 0x01, 0x04, 0x00})
	if !bytes.Equal(resp, []byte{0x69, 0x87}) {
		t.Fatalf("missing MAC answered % X", resp)
	}

	// A plain command ends the session and is then answered unauthenticated.
	tm.sm = nil
	tm.bac(specimenKey, nil, nil)
	resp = card.Process([]byte{0x00, 0xB0, 0x81, 0x00, 0x04})
	if !bytes.Equal(resp, []byte{0x69, 0x82}) {
		t.Fatalf("plain read during SM answered % X", resp)
	}
	if st := card.Stats(); st.SMAborts != 3 {
		t.Fatalf("SM aborts %d, want 3", st.SMAborts)
	}
}

func TestBadResponseMACFault(t *testing.T) {
	card := newTestCard(t, func(c *Config) { c.Faults.BadResponseMAC = 3 })
	tm := &terminal{t: t, tx: direct(card)}
	tm.selectApp()
	tm.bac(specimenKey, nil, nil)
	for i := 1; i <= 4; i++ {
		_, _, err := tm.sendErr(Command{INS: 0xB0, P1: 0x81, Ne: 4})
		if (err != nil) != (i >= 3) {
			t.Fatalf("response %d: err %v", i, err)
		}
	}
}

func TestMalformedLengthFault(t *testing.T) {
	files := testFiles(t)
	card := newTestCard(t, func(c *Config) { c.Faults.MalformedLength = []string{"DG1"} })
	tm := &terminal{t: t, tx: direct(card)}
	tm.selectApp()
	tm.bac(specimenKey, nil, nil)
	tm.selectEF(0x0101)
	head, sw := tm.send(Command{INS: 0xB0, Ne: 8})
	if sw != swOK {
		t.Fatal(sw)
	}
	if _, _, err := lds.ParseTLV(head); err == nil {
		t.Fatal("header parses")
	}
	if declared, actual := tlvTotal(t, head), len(files["DG1"]); declared < actual+0x10000 {
		t.Fatalf("declared %d bytes for %d", declared, actual)
	}
	if _, err := NewCard(Config{MRZ: specimenKey, Files: files, Faults: Faults{MalformedLength: []string{"DG9"}}}); err == nil {
		t.Fatal("malformed_length on an absent file accepted")
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no document number": {MRZ: MRZKey{DateOfBirth: "690806", DateOfExpiry: "940623"}},
		"bad date":           {MRZ: MRZKey{DocumentNumber: "X", DateOfBirth: "6908", DateOfExpiry: "940623"}},
		"unknown file":       {MRZ: specimenKey, Files: map[string][]byte{"DG17": {0x61, 0}}},
		"bad CardAccess":     {MRZ: specimenKey, Files: map[string][]byte{FileCardAccess: {0x31, 0x05, 0x01}}},
	} {
		if _, err := NewCard(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
