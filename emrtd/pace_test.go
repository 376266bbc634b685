package emrtd

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestPACETokens checks the authentication tokens of Doc 9303 Part 11
// Appendix G.1 (ECDH GM, AES-128, brainpoolP256r1).
func TestPACETokens(t *testing.T) {
	hb := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	oid, err := oidBytes("0.4.0.127.0.7.2.2.4.2.2")
	if err != nil || !bytes.Equal(oid, hb("04007F00070202040202")) {
		t.Fatalf("OID %X %v", oid, err)
	}
	kmac := hb("FE251C7858B356B24514B3BD5F4297D1")
	pkIC := hb("049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094")
	pkIFD := hb("042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462")
	alg, _ := paceAlg("0.4.0.127.0.7.2.2.4.2.2")
	tIFD, _ := paceToken(alg, kmac, oid, pkIC)
	tIC, _ := paceToken(alg, kmac, oid, pkIFD)
	if !bytes.Equal(tIFD, hb("C2B0BD78D94BA866")) || !bytes.Equal(tIC, hb("3ABB9674BCE93C08")) {
		t.Fatalf("T_IFD %X T_IC %X", tIFD, tIC)
	}
}

func TestMRZInfo(t *testing.T) {
	k := Key{DocumentNumber: "L898902C", BirthDate: "690806", ExpiryDate: "940623"}
	if got := k.MRZInfo(); got != "L898902C<369080619406236" {
		t.Fatalf("MRZ info %q", got)
	}
	k = Key{DocumentNumber: "T22000129", BirthDate: "640812", ExpiryDate: "101031"}
	if got := k.MRZInfo(); got != "T22000129364081251010318" {
		t.Fatalf("MRZ info %q", got)
	}
}
