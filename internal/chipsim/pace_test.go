package chipsim

import (
	"bytes"
	"crypto/sha1"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// Doc 9303 Part 11 Appendix G.1: PACE, ECDH Generic Mapping on
// brainpoolP256r1, AES-128, MRZ password T22000129 / 640812 / 101031.
const (
	g1PKMapIFD = "047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"
	g1PKMapIC  = "04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F5730D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
	g1PKDHIFD  = "042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
	g1PKDHIC   = "049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
	// The chip's randomness of the example: nonce s, SK_map,IC, SK_DH,IC.
	g1Nonce   = "3F00C4D39D153F2B2A214A078D899B22"
	g1SKMapIC = "498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560"
	g1SKDHIC  = "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A"
)

var g1Key = MRZKey{DocumentNumber: "T22000129", DateOfBirth: "640812", DateOfExpiry: "101031"}

// cardAccess builds EF.CardAccess with one PACEInfo per (suite, curve).
func cardAccess(t testing.TB, pairs ...[2]int) []byte {
	t.Helper()
	type paceInfoASN struct {
		Protocol    asn1.ObjectIdentifier
		Version     int
		ParameterID int
	}
	var raws []asn1.RawValue
	for _, p := range pairs {
		der, err := asn1.Marshal(paceInfoASN{lds.PACEOID(p[0]), 2, p[1]})
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, asn1.RawValue{FullBytes: der})
	}
	der, err := asn1.MarshalWithParams(raws, "set")
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestPACEKeysAppendixG(t *testing.T) {
	if got := g1Key.Information(); got != "T22000129364081251010318" {
		t.Fatalf("MRZ_information %q", got)
	}
	k := sha1.Sum([]byte(g1Key.Information()))
	for _, tc := range []struct{ name, got, want string }{
		{"K", hexU(k[:]), "7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD"},
		{"Kπ", hexU(kdf(k[:], 3, cipherAES, 16)), "89DED1B26624EC1E634C1989302849DD"},
		{"KSenc", hexU(kdf(unhex(t, "28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925"), 1, cipherAES, 16)), "F5F0E35C0D7161EE6724EE513A0D9A7F"},
		{"KSmac", hexU(kdf(unhex(t, "28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925"), 2, cipherAES, 16)), "FE251C7858B356B24514B3BD5F4297D1"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
	// The mapping of G.1: H = SK_map,IFD · PK_map,IC, Ĝ = s·G + H.
	c := ecc.BrainpoolP256r1()
	pkMapIC, err := c.Unmarshal(unhex(t, g1PKMapIC))
	if err != nil {
		t.Fatal(err)
	}
	h := c.ScalarMult(pkMapIC, new(big.Int).SetBytes(unhex(t, "7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99")))
	if got := hexU(c.Marshal(h)); got != "0460332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD50840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181" {
		t.Errorf("H = %s", got)
	}
	g := c.Add(c.ScalarBaseMult(new(big.Int).SetBytes(unhex(t, g1Nonce))), h)
	if got := hexU(c.Marshal(g)); got != "048CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E28C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522" {
		t.Errorf("Ĝ = %s", got)
	}
}

func hexU(b []byte) string { return strings.ToUpper(bytesHex(b)) }

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// The chip side of Appendix G.1 byte for byte.
func TestPACEAppendixG1(t *testing.T) {
	card, err := NewCard(Config{
		MRZ:   g1Key,
		Files: map[string][]byte{FileCardAccess: cardAccess(t, [2]int{lds.SuiteAES128, ecc.IDBrainpoolP256r1}), FileCOM: unhex(t, specimenCOM)},
		Rand:  bytes.NewReader(unhex(t, g1Nonce+g1SKMapIC+g1SKDHIC)),
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct{ name, cmd, resp string }{
		{"MSE:Set AT", "0022C1A40F800A04007F00070202040202830101", "9000"},
		{"GA 1: encrypted nonce", "10860000027C0000", "7C12801095A3A016522EE98D01E76CB6B98B42C39000"},
		{"GA 2: mapping", "10860000457C438141" + g1PKMapIFD + "00", "7C438241" + g1PKMapIC + "9000"},
		{"GA 3: key agreement", "10860000457C438341" + g1PKDHIFD + "00", "7C438441" + g1PKDHIC + "9000"},
		{"GA 4: tokens", "008600000C7C0A8508C2B0BD78D94BA86600", "7C0A86083ABB9674BCE93C089000"},
		// Cross-check with an independent implementation's AES secure
		// messaging vector for the G.1 session keys (SSC 0): SELECT of
		// the eMRTD application.
		{"SELECT application (AES SM)", "0CA4040C1D871101752F676B09FAC86A87D632749A49C7CC8E08C18BA1FCE707BD9F00", "990290008E08BEA7B381C494A0799000"},
	}
	for _, s := range steps {
		got := card.Process(unhex(t, s.cmd))
		if !bytes.Equal(got, unhex(t, s.resp)) {
			t.Fatalf("%s:\n got %X\nwant %s", s.name, got, strings.ToUpper(s.resp))
		}
	}
	// The domain parameter reference (84 0D) is accepted too; a wrong one is
	// refused.
	for _, tc := range []struct {
		cmd  string
		want uint16
	}{
		{"0022C1A412800A04007F0007020204020283010184010D", swOK},
		{"0022C1A412800A04007F0007020204020283010184010C", swRefDataNotFound},
		{"0022C1A40F800A04007F00070202040203830101", swRefDataNotFound}, // AES-192 not announced
		{"0022C1A40F800A04007F00070202040202830102", swRefDataNotFound}, // no CAN
		{"0022C1A40F800A04007F00070202040202830103", swRefDataNotFound}, // PIN
	} {
		resp := card.Process(unhex(t, tc.cmd))
		if sw := uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1]); sw != tc.want {
			t.Errorf("%s: %04X, want %04X", tc.cmd, sw, tc.want)
		}
	}
}
