package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type fleet struct {
	dir                 string
	caCert, caKey       string
	srvCert, srvKey     string
	unitCert, unitKey   string
	otherCACert         string
	rogueCert, rogueKey string // unit cert from another CA
	ca                  *CA
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	d := t.TempDir()
	f := &fleet{dir: d, ca: nil}
	p := func(n string) string { return filepath.Join(d, n) }
	f.caCert, f.caKey = p("ca.pem"), p("ca.key")
	f.srvCert, f.srvKey = p("hub.pem"), p("hub.key")
	f.unitCert, f.unitKey = p("unit.pem"), p("unit.key")
	f.otherCACert = p("other-ca.pem")
	f.rogueCert, f.rogueKey = p("rogue.pem"), p("rogue.key")

	ca, err := NewCA("Test fleet CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteFiles(f.caCert, f.caKey); err != nil {
		t.Fatal(err)
	}
	// Reload from disk so the rest of the test exercises LoadCA.
	if f.ca, err = LoadCA(f.caCert, f.caKey); err != nil {
		t.Fatal(err)
	}
	srv, err := f.ca.IssueServer([]string{"hub.example.org", "10.0.0.9"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.WriteFiles(f.srvCert, f.srvKey); err != nil {
		t.Fatal(err)
	}
	unit, err := f.ca.IssueUnit("desk-07", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unit.WriteFiles(f.unitCert, f.unitKey); err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("Other CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.WriteFiles(f.otherCACert, p("other-ca.key")); err != nil {
		t.Fatal(err)
	}
	rogue, err := other.IssueUnit("desk-07", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := rogue.WriteFiles(f.rogueCert, f.rogueKey); err != nil {
		t.Fatal(err)
	}
	return f
}

// serve runs a real HTTPS server on loopback that answers with the peer's
// unit id.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		TLSConfig: cfg,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := UnitID(r.TLS)
			if err != nil {
				http.Error(w, err.Error(), http.StatusForbidden)
				return
			}
			io.WriteString(w, id)
		}),
		ErrorLog: log.New(io.Discard, "", 0), // rejected handshakes are the point
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return "https://" + ln.Addr().String()
}

func get(cfg *tls.Config, url string) (string, error) {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", errors.New(resp.Status + ": " + string(b))
	}
	return string(b), nil
}

func TestMutualTLS(t *testing.T) {
	f := newFleet(t)
	scfg, err := ServerConfig(f.srvCert, f.srvKey, f.caCert)
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, scfg)

	good, err := ClientConfig(f.unitCert, f.unitKey, f.caCert)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := get(good, url); err != nil || id != "desk-07" {
		t.Fatalf("unit GET = %q, %v; want desk-07", id, err)
	}
	// The SAN localhost must work as well as 127.0.0.1.
	if id, err := get(good, strings.Replace(url, "127.0.0.1", "localhost", 1)); err != nil || id != "desk-07" {
		t.Fatalf("unit GET via localhost = %q, %v", id, err)
	}

	rogue, err := ClientConfig(f.rogueCert, f.rogueKey, f.caCert)
	if err != nil {
		t.Fatal(err)
	}
	noCert := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: good.RootCAs}
	srvAsClient, err := ClientConfig(f.srvCert, f.srvKey, f.caCert)
	if err != nil {
		t.Fatal(err)
	}
	tls12 := good.Clone()
	tls12.MinVersion, tls12.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	wrongPin, err := ClientConfig(f.unitCert, f.unitKey, f.otherCACert)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
	}{
		{"client cert from another CA", rogue},
		{"no client cert", noCert},
		{"server cert used as client cert", srvAsClient},
		{"TLS 1.2", tls12},
		{"client pins another CA", wrongPin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if id, err := get(tc.cfg, url); err == nil {
				t.Fatalf("accepted: unit id %q", id)
			}
		})
	}
}

func TestUnitIDFromCert(t *testing.T) {
	f := newFleet(t)
	srv, err := LoadCert(f.srvCert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := UnitIDFromCert(srv); !errors.Is(err, ErrNotUnitCert) {
		t.Fatalf("server cert: err = %v, want ErrNotUnitCert", err)
	}
	unit, err := LoadCert(f.unitCert)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := UnitIDFromCert(unit); err != nil || id != "desk-07" {
		t.Fatalf("unit cert: %q, %v", id, err)
	}
	if len(unit.URIs) != 1 || unit.URIs[0].String() != "checkpoint:unit:desk-07" {
		t.Fatalf("unit URI SANs = %v", unit.URIs)
	}
	forged := *unit
	forged.Subject.CommonName = "desk-08"
	if _, err := UnitIDFromCert(&forged); !errors.Is(err, ErrNotUnitCert) {
		t.Fatalf("CN/URI mismatch: err = %v", err)
	}
	if _, err := UnitID(nil); !errors.Is(err, ErrNoPeerCert) {
		t.Fatalf("nil state: err = %v", err)
	}
	if _, err := UnitID(&tls.ConnectionState{PeerCertificates: []*x509.Certificate{unit}}); !errors.Is(err, ErrNoPeerCert) {
		t.Fatalf("unverified peer: err = %v", err)
	}

	// Server SANs.
	want := map[string]bool{"localhost": false, "hub.example.org": false}
	for _, n := range srv.DNSNames {
		want[n] = true
	}
	for n, ok := range want {
		if !ok {
			t.Errorf("server cert lacks DNS SAN %s", n)
		}
	}
	var ips []string
	for _, ip := range srv.IPAddresses {
		ips = append(ips, ip.String())
	}
	if !strings.Contains(strings.Join(ips, ","), "127.0.0.1") || !strings.Contains(strings.Join(ips, ","), "10.0.0.9") {
		t.Errorf("server IP SANs = %v", ips)
	}
}

func TestFilesAndLoad(t *testing.T) {
	f := newFleet(t)
	for _, p := range []string{f.caKey, f.srvKey, f.unitKey} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
	if _, err := LoadCA(f.unitCert, f.unitKey); !errors.Is(err, ErrNotCA) {
		t.Errorf("unit cert as CA: err = %v, want ErrNotCA", err)
	}
	if _, err := LoadCA(f.caCert, f.unitKey); !errors.Is(err, ErrNotCA) {
		t.Errorf("CA cert with another key: err = %v, want ErrNotCA", err)
	}
	garbage := filepath.Join(f.dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not pem"), 0o644)
	if _, err := LoadPool(garbage); !errors.Is(err, ErrPEM) {
		t.Errorf("garbage pool: err = %v", err)
	}
	if _, err := LoadCert(garbage); !errors.Is(err, ErrPEM) {
		t.Errorf("garbage cert: err = %v", err)
	}
	if _, err := ServerConfig(f.srvCert, f.srvKey, garbage); err == nil {
		t.Error("ServerConfig accepted a garbage CA file")
	}
	scfg, err := ServerConfig(f.srvCert, f.srvKey, f.caCert)
	if err != nil {
		t.Fatal(err)
	}
	if scfg.ClientAuth != tls.RequireAndVerifyClientCert || scfg.MinVersion != tls.VersionTLS13 {
		t.Errorf("server config: ClientAuth=%v MinVersion=%x", scfg.ClientAuth, scfg.MinVersion)
	}
	// A leaf never outlives its CA.
	short, err := NewCA("short", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u, err := short.IssueUnit("x", 0)
	if err != nil {
		t.Fatal(err)
	}
	if u.Cert.NotAfter.After(short.Cert.NotAfter) {
		t.Errorf("unit cert outlives CA: %v > %v", u.Cert.NotAfter, short.Cert.NotAfter)
	}
}

func TestValidUnitID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"desk-07", true},
		{"EGATE_3.north", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"desk 07", false},
		{"desk/07", false},
		{"désk", false},
		{"a:b", false},
	} {
		err := ValidUnitID(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("ValidUnitID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
		if !tc.ok && !errors.Is(err, ErrBadUnitID) {
			t.Errorf("ValidUnitID(%q) error %v is not ErrBadUnitID", tc.id, err)
		}
	}
	ca, _ := NewCA("x", 0)
	if _, err := ca.IssueUnit("bad id", 0); !errors.Is(err, ErrBadUnitID) {
		t.Errorf("IssueUnit(bad id): %v", err)
	}
}

// TestOperatorCertificates: an operator certificate names an operator and
// never a unit; a unit's never an operator; one that names both, or an
// operator URI without OU=operator, is refused.
func TestOperatorCertificates(t *testing.T) {
	ca, err := NewCA("test", 0)
	if err != nil {
		t.Fatal(err)
	}
	op, err := ca.IssueOperator("analyst-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	unit, err := ca.IssueUnit("desk-07", 0)
	if err != nil {
		t.Fatal(err)
	}
	peer := func(c *x509.Certificate) (string, string, error) {
		return Peer(&tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{c}}})
	}
	if id, role, err := peer(op.Cert); err != nil || id != "analyst-1" || role != RoleOperator {
		t.Fatalf("operator: %q %q %v", id, role, err)
	}
	if id, role, err := peer(unit.Cert); err != nil || id != "desk-07" || role != RoleUnit {
		t.Fatalf("unit: %q %q %v", id, role, err)
	}
	if _, err := UnitIDFromCert(op.Cert); !errors.Is(err, ErrNotUnitCert) {
		t.Fatalf("an operator certificate passed as a unit's: %v", err)
	}
	both := *op.Cert
	both.URIs = append(append([]*url.URL{}, op.Cert.URIs...), unit.Cert.URIs...)
	if _, _, err := peer(&both); !errors.Is(err, ErrNotUnitCert) {
		t.Fatalf("a certificate naming an operator and a unit: %v", err)
	}
	noOU := *op.Cert
	noOU.Subject.OrganizationalUnit = nil
	if _, _, err := peer(&noOU); !errors.Is(err, ErrNotUnitCert) {
		t.Fatalf("operator URI without OU=operator: %v", err)
	}
	if _, err := ca.IssueOperator("bad name", 0); err == nil {
		t.Fatal("issued an operator certificate with a bad name")
	}
	if _, _, err := Peer(nil); !errors.Is(err, ErrNoPeerCert) {
		t.Fatalf("no peer: %v", err)
	}
}
