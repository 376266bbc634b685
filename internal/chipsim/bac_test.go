package chipsim

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// The worked example of Doc 9303 Part 11 Appendix D: the specimen MRZ
// L898902C<3 690806 1 940623 6.
var specimenKey = MRZKey{DocumentNumber: "L898902C", DateOfBirth: "690806", DateOfExpiry: "940623"}

// specimenCOM is EF.COM of Appendix D.4 (LDS 1.6, Unicode 4.0.0, DG1 and DG2).
const specimenCOM = "60145F0104303130365F36063034303030305C026175"

func TestBACKeyDerivationAppendixD(t *testing.T) {
	if got := specimenKey.Information(); got != "L898902C<369080619406236" {
		t.Fatalf("MRZ_information %q", got)
	}
	kenc, kmac := bacKeys(specimenKey)
	for _, tc := range []struct{ name, got, want string }{
		{"Kenc", hex.EncodeToString(kenc), "ab94fdecf2674fdfb9b391f85d7f76f2"},
		{"Kmac", hex.EncodeToString(kmac), "7962d9ece03d1acd4c76089dce131543"},
		{"KSenc", hex.EncodeToString(kdf(unhex(t, "0036D272F5C350ACAC50C3F572D23600"), 1, cipher3DES, 16)), "979ec13b1cbfe9dcd01ab0fed307eae5"},
		{"KSmac", hex.EncodeToString(kdf(unhex(t, "0036D272F5C350ACAC50C3F572D23600"), 2, cipher3DES, 16)), "f1cb1f1fb5adf208806b89dc579dc1f8"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
	// Retail MAC of D.3 and D.4.
	mac, _ := retailMAC(kmac, pad(unhex(t, "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"), 8))
	if !bytes.Equal(mac, unhex(t, "5F1448EEA8AD90A7")) {
		t.Errorf("M.IFD %X", mac)
	}
	mac, _ = retailMAC(unhex(t, "F1CB1F1FB5ADF208806B89DC579DC1F8"), pad(unhex(t, "887022120C06C22899029000"), 8))
	if !bytes.Equal(mac, unhex(t, "FA855A5D4C50A8ED")) {
		t.Errorf("response MAC %X", mac)
	}
}

// The chip side of Appendix D.3 and D.4 byte for byte: the card draws the
// example's RND.IC and K.IC and must answer the example's commands with the
// example's responses.
func TestBACAndSecureMessagingAppendixD(t *testing.T) {
	card, err := NewCard(Config{
		MRZ:   specimenKey,
		Files: map[string][]byte{FileCOM: unhex(t, specimenCOM)},
		Rand:  bytes.NewReader(unhex(t, "4608F91988702212"+"0B4F80323EB3191CB04970CB4052790B")),
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct{ name, cmd, resp string }{
		{"SELECT eMRTD application", "00A4040C07A0000002471001", "9000"},
		{"GET CHALLENGE", "0084000008", "4608F919887022129000"},
		{"MUTUAL AUTHENTICATE", "0082000028" + "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2" + "5F1448EEA8AD90A7" + "28",
			"46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F" + "2F2D235D074D7449" + "9000"},
		{"SELECT EF.COM (SM)", "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800", "990290008E08FA855A5D4C50A8ED9000"},
		{"READ BINARY 4 bytes (SM)", "0CB000000D9701048E08ED6705417E96BA5500", "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"},
		{"READ BINARY 18 bytes from 4 (SM)", "0CB000040D9701128E082EA28A70F3C7B53500",
			"871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000"},
	}
	for _, s := range steps {
		got := card.Process(unhex(t, s.cmd))
		if !bytes.Equal(got, unhex(t, s.resp)) {
			t.Fatalf("%s:\n got %X\nwant %s", s.name, got, strings.ToUpper(s.resp))
		}
	}
	if st := card.Stats(); st.BACAttempts != 1 || st.Reads != 2 || st.SMAborts != 0 {
		t.Fatalf("stats %+v", st)
	}
}
