package issuer

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// OpenSSL checks what the issuer makes: it knows nothing of this code.
func openssl(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("openssl missing (make deps installs it): %v", err)
		}
		t.Skipf("openssl missing: %v", err)
	}
	return p
}

func run(t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writePEM(t testing.TB, dir, name string, certs ...*x509.Certificate) string {
	t.Helper()
	var b bytes.Buffer
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	pkiOnce sync.Once
	pkiVal  *PKI
	pkiErr  error
)

// testPKI is shared by the tests of this package (RSA key generation is
// slow).
func testPKI(t testing.TB) *PKI {
	t.Helper()
	pkiOnce.Do(func() { pkiVal, pkiErr = NewPKI("UTO", PKIOptions{}) })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

// testFace is a synthetic 240x320 JPEG (no real face in the repository).
func testFace(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 240, 320))
	for y := 0; y < 320; y++ {
		for x := 0; x < 240; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testTraveller(t testing.TB) Traveller {
	return Traveller{
		IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: []string{"ANNA", "MARIA"},
		DocumentNumber: "L898902C", Nationality: "UTO", Sex: "F",
		BirthDate:  time.Date(1969, 8, 6, 0, 0, 0, 0, time.UTC),
		ExpiryDate: time.Date(2031, 6, 23, 0, 0, 0, 0, time.UTC),
		Face:       FaceImage{Data: testFace(t), Sex: "F"},
		Details:    &PersonalDetails{FullName: "ERIKSSON<<ANNA<MARIA", PlaceOfBirth: "ZENITH", FullDateOfBirth: time.Date(1969, 8, 6, 0, 0, 0, 0, time.UTC)},
		Document:   &DocumentDetails{IssuingAuthority: "UTOPIA PASSPORT OFFICE", DateOfIssue: time.Date(2021, 6, 24, 0, 0, 0, 0, time.UTC)},
		CAN:        "123456",
	}
}

// verifySOD has OpenSSL verify EF.SOD against the CSCA and returns the
// LDS security object it carries.
func verifySOD(t testing.TB, sod []byte, csca *x509.Certificate) ([]byte, error) {
	t.Helper()
	ossl := openssl(t)
	dir := t.TempDir()
	tlv, _, err := lds.ParseTLV(sod)
	if err != nil || tlv.Tag != 0x77 {
		t.Fatalf("EF.SOD is not a 77 template: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "sod.der"), tlv.Value, 0o600)
	ca := writePEM(t, dir, "csca.pem", csca)
	out, err := run(t, dir, ossl, "cms", "-verify", "-inform", "DER", "-in", "sod.der", "-CAfile", ca,
		"-purpose", "any", "-binary", "-out", "content.der")
	if err != nil {
		return nil, &opensslError{out}
	}
	return os.ReadFile(filepath.Join(dir, "content.der"))
}

type opensslError struct{ out string }

func (e *opensslError) Error() string { return "openssl: " + e.out }

type ldsSecurityObject struct {
	Version       int
	HashAlgorithm struct{ Algorithm asn1.ObjectIdentifier }
	Hashes        []struct {
		Number int
		Value  []byte
	}
}

func TestIssueVerifiesWithOpenSSL(t *testing.T) {
	p := testPKI(t)
	for _, tc := range []struct {
		name string
		ds   func() *CertKey
		opts Options
	}{
		{"ECDSA DS, SHA-256", func() *CertKey { return p.DS }, Options{}},
		{"RSA DS, PKCS#1 v1.5, SHA-512, by key id", func() *CertKey {
			ds, _ := NewDS(p.CSCA, CertOptions{Key: "rsa2048"})
			return ds
		}, Options{SODHash: crypto.SHA512, SignerKeyID: true}},
		{"RSA-PSS DS, LDS 1.8", func() *CertKey {
			ds, _ := NewDS(p.CSCA, CertOptions{Key: "rsa2048", PSS: true})
			return ds
		}, Options{SODVersion1: true, SigningTime: time.Now()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Issue(testTraveller(t), tc.ds(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			content, err := verifySOD(t, doc.Files["SOD"], p.CSCA.Cert)
			if err != nil {
				t.Fatal(err)
			}
			var lso ldsSecurityObject
			if _, err := asn1.Unmarshal(content, &lso); err != nil {
				t.Fatalf("security object: %v", err)
			}
			if tc.opts.SODVersion1 != (lso.Version == 1) {
				t.Fatalf("version %d", lso.Version)
			}
			want := []int{1, 2, 11, 12}
			if len(lso.Hashes) != len(want) {
				t.Fatalf("%d hashes, want %d", len(lso.Hashes), len(want))
			}
			for i, h := range lso.Hashes {
				if h.Number != want[i] {
					t.Fatalf("hash %d is DG%d", i, h.Number)
				}
				data := doc.Files["DG"+strconv.Itoa(h.Number)]
				var sum []byte
				if tc.opts.SODHash == crypto.SHA512 {
					s := sha512.Sum512(data)
					sum = s[:]
				} else {
					s := sha256.Sum256(data)
					sum = s[:]
				}
				if !bytes.Equal(sum, h.Value) {
					t.Fatalf("DG%d hash differs", h.Number)
				}
			}
		})
	}
}

func TestLDSFiles(t *testing.T) {
	p := testPKI(t)
	doc, err := Issue(testTraveller(t), p.DS, Options{
		AAKey: "rsa1024", CAKey: "ec-brainpoolP256r1", CAKeyID: 1,
		PACE: []PACEParams{{lds.SuiteAES128, "brainpoolP256r1"}, {lds.SuiteAES256, "P-384"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if doc.DocumentNumber != "L898902C" || doc.DateOfBirth != "690806" || doc.DateOfExpiry != "310623" {
		t.Fatalf("access key %s %s %s", doc.DocumentNumber, doc.DateOfBirth, doc.DateOfExpiry)
	}
	// DG1 holds the generated MRZ.
	dg1, _, _ := lds.ParseTLV(doc.Files["DG1"])
	m, ok, _ := lds.Find(dg1.Value, 0x5F1F)
	if !ok || string(m.Value) != strings.Join(doc.MRZ, "") || len(m.Value) != 88 {
		t.Fatalf("DG1 MRZ %q", m.Value)
	}
	// EF.COM lists exactly the data groups present.
	com, _, _ := lds.ParseTLV(doc.Files["COM"])
	list, _, _ := lds.Find(com.Value, 0x5C)
	if !bytes.Equal(list.Value, []byte{0x61, 0x75, 0x6B, 0x6C, 0x6E, 0x6F}) {
		t.Fatalf("EF.COM tag list % X", list.Value)
	}
	// DG2: CBEFF templates around a 19794-5 record with the JPEG.
	dg2t, _, _ := lds.ParseTLV(doc.Files["DG2"])
	group, _, _ := lds.Find(dg2t.Value, 0x7F61)
	bit, _, _ := lds.Find(group.Value, 0x7F60)
	rec, ok, _ := lds.Find(bit.Value, 0x5F2E)
	if !ok || !bytes.HasPrefix(rec.Value, []byte("FAC\x00010\x00")) {
		t.Fatal("no 19794-5 record in DG2")
	}
	img := rec.Value[14+20+12:]
	if !bytes.Equal(img, testTraveller(t).Face.Data) {
		t.Fatal("DG2 image differs from the face given")
	}
	if w, h := int(rec.Value[36])<<8|int(rec.Value[37]), int(rec.Value[38])<<8|int(rec.Value[39]); w != 240 || h != 320 {
		t.Fatalf("19794-5 size %dx%d", w, h)
	}
	// DG15: the AA public key.
	dg15, _, _ := lds.ParseTLV(doc.Files["DG15"])
	pub, err := x509.ParsePKIXPublicKey(dg15.Value)
	if err != nil || !doc.AAKey.(crypto.Decrypter).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
		t.Fatalf("DG15: %v", err)
	}
	// DG14: CA info, CA public key, and the PACEInfos again.
	dg14, _, _ := lds.ParseTLV(doc.Files["DG14"])
	infos, err := lds.ParseSecurityInfos(dg14.Value)
	if err != nil {
		t.Fatal(err)
	}
	var caInfo, caKey, pace int
	for _, si := range infos {
		switch {
		case si.Protocol.Equal(lds.CAOID(lds.SuiteAES128)):
			caInfo++
		case si.Protocol.Equal(lds.OIDPKECDH):
			c, pt, err := ecc.ParsePKIX(si.Required.FullBytes)
			if err != nil || c != ecc.BrainpoolP256r1() || !pt.Equal(doc.CAKey.Public) {
				t.Fatalf("CA public key: %v", err)
			}
			if id, _ := lds.IntValue(si.Optional); id != 1 {
				t.Fatalf("CA key id %d", id)
			}
			caKey++
		case lds.HasPrefix(si.Protocol, lds.OIDPACE):
			pace++
		}
	}
	if caInfo != 1 || caKey != 1 || pace != 2 {
		t.Fatalf("DG14 infos: CA %d, key %d, PACE %d", caInfo, caKey, pace)
	}
	ca, err := lds.ParseSecurityInfos(doc.Files["CardAccess"])
	if err != nil || len(ca) != 2 {
		t.Fatalf("EF.CardAccess: %v", err)
	}
}

func TestTamper(t *testing.T) {
	p := testPKI(t)
	tr := testTraveller(t)
	clean, err := Issue(tr, p.DS, Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Issue(tr, p.DS, Options{Tamper: Tamper{
		AlterAfterSigning: []string{"DG1"}, UnknownTags: []string{"DG11"}, OversizeDG2: 200_000, OmitHash: []string{"DG12"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	content, err := verifySOD(t, doc.Files["SOD"], p.CSCA.Cert)
	if err != nil {
		t.Fatalf("a tampered document still carries a valid signature: %v", err)
	}
	var lso ldsSecurityObject
	asn1.Unmarshal(content, &lso)
	hashes := map[int][]byte{}
	for _, h := range lso.Hashes {
		hashes[h.Number] = h.Value
	}
	sum := func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
	if bytes.Equal(hashes[1], sum(doc.Files["DG1"])) {
		t.Error("altered DG1 matches its hash")
	}
	if _, ok := hashes[12]; ok {
		t.Error("DG12 hash present")
	}
	if !bytes.Equal(hashes[11], sum(doc.Files["DG11"])) || !bytes.Equal(hashes[2], sum(doc.Files["DG2"])) {
		t.Error("signed tampering (unknown tag, oversized DG2) breaks the hash")
	}
	if len(doc.Files["DG2"]) < 200_000 {
		t.Errorf("DG2 of %d bytes", len(doc.Files["DG2"]))
	}
	// The altered DG1 is still a well-formed MRZ, one letter off.
	a, _, _ := lds.ParseTLV(doc.Files["DG1"])
	b, _, _ := lds.ParseTLV(clean.Files["DG1"])
	diff := 0
	for i := range a.Value {
		if a.Value[i] != b.Value[i] {
			diff++
			if c := a.Value[i]; c < 'A' || c > 'Z' {
				t.Errorf("altered byte %q", c)
			}
		}
	}
	if diff != 1 {
		t.Errorf("%d bytes differ in DG1", diff)
	}
	// DG11 carries the unknown tag and still parses.
	dg11, _, err := lds.ParseTLV(doc.Files["DG11"])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := lds.Find(dg11.Value, UnknownTag); !ok {
		t.Error("no unknown tag in DG11")
	}
	// The inflated image is still a JPEG of the same size.
	if _, err := jpeg.DecodeConfig(bytes.NewReader(mustInflate(t))); err != nil {
		t.Error(err)
	}
	if _, err := Issue(tr, p.DS, Options{Tamper: Tamper{AlterAfterSigning: []string{"DG7"}}}); err == nil {
		t.Error("altering an absent DG accepted")
	}
}

func mustInflate(t *testing.T) []byte {
	b, err := InflateJPEG(testFace(t), 150_000)
	if err != nil || len(b) < 150_000 {
		t.Fatalf("inflate: %v, %d bytes", err, len(b))
	}
	return b
}

func TestPKIWithOpenSSL(t *testing.T) {
	ossl := openssl(t)
	p := testPKI(t)
	dir := t.TempDir()
	ca := writePEM(t, dir, "csca.pem", p.CSCA.Cert)
	os.WriteFile(filepath.Join(dir, "crl.der"), p.CRL, 0o600)
	if out, err := run(t, dir, ossl, "crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem"); err != nil {
		t.Fatal(out)
	}
	for _, tc := range []struct {
		name   string
		cert   *x509.Certificate
		crl    bool
		wantOK bool
		reason string
	}{
		{"DS", p.DS.Cert, true, true, ""},
		{"master list signer", p.MasterListSigner.Cert, true, true, ""},
		{"expired DS", p.ExpiredDS.Cert, false, false, "expired"},
		{"revoked DS", p.RevokedDS.Cert, true, false, "revoked"},
		{"DS under an unknown CSCA", p.UnchainedDS.Cert, false, false, "unable to get local issuer"},
		{"DS under the rogue CSCA", p.RogueDS.Cert, false, false, "signature failure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{ossl, "verify", "-CAfile", ca}
			if tc.crl {
				args = append(args, "-crl_check", "-CRLfile", "crl.pem")
			}
			args = append(args, writePEM(t, dir, "c.pem", tc.cert))
			out, err := run(t, dir, args...)
			if (err == nil) != tc.wantOK || !strings.Contains(out, tc.reason) {
				t.Fatalf("openssl verify: %v\n%s", err, out)
			}
		})
	}
	// The rogue CSCA copies the trusted one's name and serial number.
	if p.RogueCSCA.Cert.Subject.String() != p.CSCA.Cert.Subject.String() ||
		p.RogueCSCA.Cert.SerialNumber.Cmp(p.CSCA.Cert.SerialNumber) != 0 ||
		bytes.Equal(p.RogueCSCA.Cert.RawSubjectPublicKeyInfo, p.CSCA.Cert.RawSubjectPublicKeyInfo) {
		t.Fatal("rogue CSCA is not a same-name, same-serial, other-key copy")
	}
	if !bytes.Equal(p.RogueDS.Cert.RawIssuer, p.CSCA.Cert.RawSubject) || !bytes.Equal(p.RogueDS.Cert.AuthorityKeyId, p.CSCA.Cert.SubjectKeyId) {
		t.Fatal("rogue DS does not name the trusted CSCA (name and key identifier) as issuer")
	}
	// A document signed by the rogue DS does not verify against the CSCA.
	doc, err := Issue(testTraveller(t), p.RogueDS, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifySOD(t, doc.Files["SOD"], p.CSCA.Cert); err == nil {
		t.Fatal("EF.SOD of the rogue DS verifies against the trusted CSCA")
	}
	// Link certificate: a new CSCA key certified by the old CSCA.
	newCSCA, err := NewCSCA("UTO", CertOptions{Key: "ecdsa-p384"})
	if err != nil {
		t.Fatal(err)
	}
	link, err := NewLinkCertificate(p.CSCA, newCSCA)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, dir, ossl, "verify", "-CAfile", ca, "-partial_chain", writePEM(t, dir, "link.pem", link)); err != nil {
		t.Fatalf("link certificate: %s", out)
	}
	if !bytes.Equal(link.RawSubjectPublicKeyInfo, newCSCA.Cert.RawSubjectPublicKeyInfo) {
		t.Fatal("link certificate does not carry the new key")
	}
}

func TestMasterListWithOpenSSL(t *testing.T) {
	ossl := openssl(t)
	p := testPKI(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ml.der"), p.MasterList, 0o600)
	ca := writePEM(t, dir, "csca.pem", p.CSCA.Cert)
	out, err := run(t, dir, ossl, "cms", "-verify", "-inform", "DER", "-in", "ml.der", "-CAfile", ca, "-purpose", "any", "-binary", "-out", "content.der")
	if err != nil {
		t.Fatalf("master list: %s", out)
	}
	if out, _ := run(t, dir, ossl, "cms", "-cmsout", "-print", "-inform", "DER", "-in", "ml.der"); !strings.Contains(out, "2.23.136.1.1.2") {
		t.Fatalf("content type not id-icao-cscaMasterList:\n%.400s", out)
	}
	content, _ := os.ReadFile(filepath.Join(dir, "content.der"))
	var ml struct {
		Version int
		Certs   []asn1.RawValue `asn1:"set"`
	}
	if _, err := asn1.Unmarshal(content, &ml); err != nil || len(ml.Certs) != 1 || !bytes.Equal(ml.Certs[0].FullBytes, p.CSCA.Cert.Raw) {
		t.Fatalf("CscaMasterList: %v", err)
	}
	// A master list signed under the rogue CSCA fails.
	rogueSigner, err := NewMasterListSigner(p.RogueCSCA, CertOptions{Key: "ecdsa-p256"})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := NewMasterList(rogueSigner, p.RogueCSCA.Cert, []*x509.Certificate{p.RogueCSCA.Cert})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "bad.der"), bad, 0o600)
	if out, err := run(t, dir, ossl, "cms", "-verify", "-inform", "DER", "-in", "bad.der", "-CAfile", ca, "-purpose", "any", "-out", "/dev/null"); err == nil {
		t.Fatalf("rogue master list verifies: %s", out)
	}
}

func TestJPEG2000Face(t *testing.T) {
	src, err := jpeg.Decode(bytes.NewReader(testFace(t)))
	if err != nil {
		t.Fatal(err)
	}
	jp2, err := EncodeJPEG2000(src, 20)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	kind, w, h, err := imageInfo(jp2)
	if err != nil || kind != ImageJPEG2000 || w != 240 || h != 320 {
		t.Fatalf("JP2 info %d %dx%d %v", kind, w, h, err)
	}
	// opj_decompress reads it back at the same size.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f.jp2"), jp2, 0o600)
	if out, err := run(t, dir, "opj_decompress", "-i", "f.jp2", "-o", "f.ppm"); err != nil {
		t.Fatal(out)
	}
	ppmData, _ := os.ReadFile(filepath.Join(dir, "f.ppm"))
	if !bytes.HasPrefix(ppmData, []byte("P6\n")) || !bytes.Contains(ppmData[:min(len(ppmData), 64)], []byte("\n240 320\n")) {
		t.Fatalf("decoded header %q", ppmData[:min(len(ppmData), 16)])
	}
	tr := testTraveller(t)
	tr.Face = FaceImage{Data: jp2}
	doc, err := Issue(tr, testPKI(t).DS, Options{})
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(doc.Files["DG2"], []byte("FAC\x00"))
	if i < 0 || doc.Files["DG2"][i+14+20+1] != ImageJPEG2000 {
		t.Fatal("DG2 does not declare JPEG 2000")
	}
}
