package pa

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	testissuer "github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// OpenSSL is the independent party for Brainpool PKI: its certificates,
// CRLs and CMS signatures (explicit and named curves) must pass passive
// authentication, and it must accept what the test issuer makes, so that
// neither our parser nor our test issuer only agrees with itself.

func needOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl not installed (make deps installs it)")
		}
		t.Skip("openssl not installed")
	}
	return p
}

const opensslCA = `[ca]
default_ca = ca
[ca]
dir = DIR
database = DIR/index.txt
serial = DIR/serial
crlnumber = DIR/crlnumber
new_certs_dir = DIR
certificate = DIR/csca.pem
private_key = DIR/csca.key
default_md = sha384
default_crl_days = 30
policy = any
x509_extensions = ds
unique_subject = no
[any]
countryName = supplied
commonName = supplied
[ds]
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[req]
distinguished_name = dn
[dn]
[csca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[mls]
keyUsage = critical,digitalSignature
`

type opensslPKI struct {
	t    *testing.T
	bin  string
	dir  string
	conf string
}

func (o *opensslPKI) run(args ...string) string {
	o.t.Helper()
	cmd := exec.Command(o.bin, args...)
	cmd.Dir = o.dir
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+o.conf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		o.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (o *opensslPKI) file(name string) []byte {
	o.t.Helper()
	b, err := os.ReadFile(filepath.Join(o.dir, name))
	if err != nil {
		o.t.Fatal(err)
	}
	return b
}

// issue makes a key on curve and a certificate signed by the CSCA.
func (o *opensslPKI) issue(name, curve, subject, start, end string, explicit bool) {
	args := []string{"ecparam", "-name", curve, "-genkey", "-noout", "-out", name + ".key"}
	if explicit {
		args = append(args, "-param_enc", "explicit")
	}
	o.run(args...)
	o.run("req", "-new", "-key", name+".key", "-subj", subject, "-out", name+".csr")
	o.run("ca", "-batch", "-config", o.conf, "-in", name+".csr", "-out", name+".pem", "-notext", "-startdate", start, "-enddate", end)
}

// sign makes a CMS SignedData (DER) over content with signed attributes,
// as a state's document signer or master list signer does.
func (o *opensslPKI) sign(name, contentType string, content []byte) []byte {
	o.t.Helper()
	if err := os.WriteFile(filepath.Join(o.dir, "content.der"), content, 0o600); err != nil {
		o.t.Fatal(err)
	}
	o.run("cms", "-sign", "-binary", "-nodetach", "-nosmimecap", "-md", "sha256", "-in", "content.der",
		"-signer", name+".pem", "-inkey", name+".key", "-econtent_type", contentType, "-outform", "DER", "-out", "signed.der")
	return o.file("signed.der")
}

func pemBlock(t *testing.T, b []byte) []byte {
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	return blk.Bytes
}

// TestOpenSSLBrainpoolPKI: a CSCA on brainpoolP384r1 with explicit
// parameters, document signers on brainpoolP256r1 and brainpoolP512r1,
// CRLs, an EF.SOD and a master list, all made by OpenSSL.
func TestOpenSSLBrainpoolPKI(t *testing.T) {
	o := &opensslPKI{t: t, bin: needOpenSSL(t), dir: t.TempDir()}
	o.conf = filepath.Join(o.dir, "ca.cnf")
	os.WriteFile(o.conf, []byte(strings.ReplaceAll(opensslCA, "DIR", o.dir)), 0o600)
	os.WriteFile(filepath.Join(o.dir, "index.txt"), nil, 0o600)
	os.WriteFile(filepath.Join(o.dir, "serial"), []byte("1000\n"), 0o600)
	os.WriteFile(filepath.Join(o.dir, "crlnumber"), []byte("01\n"), 0o600)

	o.run("ecparam", "-name", "brainpoolP384r1", "-genkey", "-noout", "-param_enc", "explicit", "-out", "csca.key")
	o.run("req", "-new", "-key", "csca.key", "-subj", "/C=UT/O=Utopia/CN=CSCA UT", "-config", o.conf, "-out", "csca.csr")
	o.run("ca", "-batch", "-config", o.conf, "-selfsign", "-keyfile", "csca.key", "-in", "csca.csr", "-out", "csca.pem", "-notext",
		"-extensions", "csca", "-startdate", "20190101000000Z", "-enddate", "21001231000000Z")
	o.issue("ds", "brainpoolP256r1", "/C=UT/CN=DS UT", "20240101000000Z", "20991231000000Z", false)
	o.issue("ds512", "brainpoolP512r1", "/C=UT/CN=DS UT 512", "20240101000000Z", "20991231000000Z", true)
	o.issue("old", "brainpoolP256r1", "/C=UT/CN=DS UT old", "20200101000000Z", "20210101000000Z", false)
	o.run("ca", "-config", o.conf, "-gencrl", "-out", "clean.crl")
	o.run("ca", "-config", o.conf, "-revoke", "ds.pem")
	o.run("ca", "-config", o.conf, "-gencrl", "-out", "revoked.crl")

	csca, err := ParseCertificate(pemBlock(t, o.file("csca.pem")))
	if err != nil {
		t.Fatalf("OpenSSL's CSCA: %v", err)
	}
	if _, ok := csca.PublicKey.(*ECPublicKey); !ok || !csca.IsCA || csca.KeyUsage&x509.KeyUsageCertSign == 0 || Country(csca) != "UT" {
		t.Fatalf("CSCA read as %T, CA %v, usage %v", csca.PublicKey, csca.IsCA, csca.KeyUsage)
	}
	if err := CheckSignatureFrom(csca, csca); err != nil {
		t.Fatalf("CSCA self-signature: %v", err)
	}
	trust := func(crl string) *Store {
		set, _, err := Parse(append(o.file("csca.pem"), o.file(crl)...))
		if err != nil {
			t.Fatal(err)
		}
		return storeOf(t, set)
	}

	groups := testGroups()
	lds := testissuer.LDSSecurityObject(t, groups)
	sod := func(signer string) []byte { return tlv.Encode(0x77, o.sign(signer, "2.23.136.1.1.1", lds)) }
	for _, c := range []struct {
		name, signer, crl string
		status            Status
		step              string
	}{
		{"brainpoolP256r1 DS", "ds", "clean.crl", Valid, ""},
		{"brainpoolP512r1 DS, explicit parameters", "ds512", "clean.crl", Valid, ""},
		{"revoked DS", "ds", "revoked.crl", Invalid, StepCRL},
		{"expired DS", "old", "clean.crl", Invalid, StepDSValidity},
	} {
		r := Verify(sod(c.signer), groups, trust(c.crl), Options{Country: "UTO"})
		if r.Status != c.status || r.FailedStep != c.step {
			t.Errorf("%s: %s at %q (%s)\n%+v", c.name, r.Status, r.FailedStep, r.Reason, r.Steps)
		}
		if c.status == Valid {
			if st := stepOf(r, StepCRL); !st.OK || st.Warn {
				t.Errorf("%s: OpenSSL's CRL not checked: %+v", c.name, st)
			}
		}
	}

	// A master list of Brainpool CSCAs (OpenSSL's and the test issuer's),
	// signed by OpenSSL with a master list signer under the CSCA.
	other := testissuer.NewBrainpoolState(t, "FR", "brainpoolP256r1", "brainpoolP256r1", true)
	o.issue("mls", "brainpoolP256r1", "/C=UT/CN=Master List Signer", "20240101000000Z", "20991231000000Z", false)
	ver, _ := asn1.Marshal(0)
	ml := o.sign("mls", "2.23.136.1.1.2", tlv.Encode(0x30, ver, tlv.Encode(0x31, csca.Raw, other.CSCA.Raw)))
	set, info, err := Parse(ml)
	if err != nil || len(set.CSCAs) != 2 || !info.SignatureOK || !info.SignerChained {
		t.Fatalf("OpenSSL master list: %d CSCAs, %+v, %v", len(set.CSCAs), info, err)
	}
}

// TestOpenSSLAcceptsTestIssuer has OpenSSL check the test issuer's
// Brainpool chains, CRLs and EF.SOD, so that the tests above do not rest
// on an issuer that only our parser understands.
func TestOpenSSLAcceptsTestIssuer(t *testing.T) {
	o := &opensslPKI{t: t, bin: needOpenSSL(t), dir: t.TempDir()}
	o.conf = filepath.Join(o.dir, "empty.cnf")
	os.WriteFile(o.conf, nil, 0o600)
	for _, explicit := range []bool{false, true} {
		s := testissuer.NewBrainpoolState(t, "UT", "brainpoolP384r1", "brainpoolP256r1", explicit)
		write := func(name string, b []byte) { os.WriteFile(filepath.Join(o.dir, name), b, 0o600) }
		write("csca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.CSCA.Raw}))
		write("ds.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.DS.Raw}))
		write("crl.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: s.CRL(t, s.DS.SerialNumber).Raw}))
		// OpenSSL's verify refuses explicit parameters (RFC 5480 forbids
		// them; ICAO certificates use them anyway): for those, check the
		// signature over the TBSCertificate with openssl dgst.
		if !explicit {
			if out := o.run("verify", "-x509_strict", "-CAfile", "csca.pem", "ds.pem"); !strings.Contains(out, "ds.pem: OK") {
				t.Fatalf("openssl verify: %s", out)
			}
		}
		o.run("x509", "-in", "csca.pem", "-pubkey", "-noout", "-out", "csca.pub")
		write("tbs.der", s.DS.RawTBSCertificate)
		write("sig.der", s.DS.Signature)
		if out := o.run("dgst", "-sha384", "-verify", "csca.pub", "-signature", "sig.der", "tbs.der"); !strings.Contains(out, "Verified OK") {
			t.Fatalf("openssl dgst: %s", out)
		}
		// The CRL's signature, and the revocation it states.
		if out := o.run("crl", "-in", "crl.pem", "-CAfile", "csca.pem", "-noout", "-text"); !strings.Contains(out, "verify OK") ||
			!strings.Contains(strings.ToUpper(out), "SERIAL NUMBER: "+fmt.Sprintf("%X", s.DS.SerialNumber.Bytes())) {
			t.Fatalf("openssl crl: %s", out)
		}
		if !explicit {
			cmd := exec.Command(o.bin, "verify", "-crl_check", "-CAfile", "csca.pem", "-CRLfile", "crl.pem", "ds.pem")
			cmd.Dir = o.dir
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "revoked") {
				t.Fatalf("openssl does not see the DS revoked: %v %s", err, out)
			}
		}
		sod := testissuer.SOD(t, testGroups(), s.DS, s.DSKey)
		tl, err := tlv.Parse(sod)
		if err != nil {
			t.Fatal(err)
		}
		write("sod.der", tl.Value)
		verify := []string{"cms", "-verify", "-inform", "DER", "-in", "sod.der", "-CAfile", "csca.pem", "-binary", "-out", "lds.der", "-purpose", "any"}
		if explicit {
			verify = append(verify, "-noverify") // the signature only: see above
		}
		o.run(verify...)
		if got := o.file("lds.der"); len(got) == 0 {
			t.Fatal("openssl cms gave no content")
		}
	}
}
