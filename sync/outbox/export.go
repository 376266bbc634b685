package outbox

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"filippo.io/age"
	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// ExportFormat names the hand-carry file format. Inside the age encryption
// it is JSON lines: a header (format, unit, creation time, record count, the
// unit's certificate chain), one Record per line, and a final line holding
// the signature, by the unit's TLS key, over the SHA-256 of every byte
// before it.
const ExportFormat = "checkpoint-outbox-export/1"

type exportHeader struct {
	Format  string    `json:"format"`
	Unit    string    `json:"unit"`
	Created time.Time `json:"created"`
	Count   int       `json:"count"`
	Certs   [][]byte  `json:"certs"`
}

type exportTrailer struct {
	Sig []byte `json:"sig"`
}

// Export is a verified hand-carried file.
type Export struct {
	Unit    string
	Created time.Time
	Records []Record
}

// Export writes every queued record (hits first) to w, encrypted to
// recipients (headquarters' age public keys) and signed with the unit's
// client certificate, whose unit id must be this outbox's. Records stay
// queued: see the package documentation. It returns the number exported.
func (o *Outbox) Export(w io.Writer, recipients []age.Recipient, signer tls.Certificate) (int, error) {
	if len(recipients) == 0 {
		return 0, errors.New("outbox: export: no recipients")
	}
	key, ok := signer.PrivateKey.(crypto.Signer)
	if !ok || len(signer.Certificate) == 0 {
		return 0, errors.New("outbox: export: signer has no certificate or key")
	}
	leaf, err := x509.ParseCertificate(signer.Certificate[0])
	if err != nil {
		return 0, fmt.Errorf("outbox: export: %w", err)
	}
	if id, err := pki.UnitIDFromCert(leaf); err != nil || id != o.opts.UnitID {
		return 0, fmt.Errorf("outbox: export: certificate is not unit %q's (%v)", o.opts.UnitID, err)
	}
	if o.isClosed() {
		return 0, ErrClosed
	}
	aw, err := age.Encrypt(w, recipients...)
	if err != nil {
		return 0, fmt.Errorf("outbox: export: %w", err)
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(aw, h), 64<<10)
	n := 0
	err = o.db.View(func(tx *bolt.Tx) error {
		count := tx.Bucket(bucketHits).Stats().KeyN + tx.Bucket(bucketRoutine).Stats().KeyN
		if err := writeLine(bw, exportHeader{Format: ExportFormat, Unit: o.opts.UnitID, Created: o.clock.Now().UTC(), Count: count, Certs: signer.Certificate}); err != nil {
			return err
		}
		for _, class := range [][]byte{bucketHits, bucketRoutine} {
			c := tx.Bucket(class).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				r, err := o.decode(class, k, v)
				if err != nil {
					return err
				}
				if err := writeLine(bw, &r); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return 0, fmt.Errorf("outbox: export: %w", err)
	}
	sig, err := signDigest(key, h.Sum(nil))
	if err != nil {
		return 0, fmt.Errorf("outbox: export: sign: %w", err)
	}
	if err := writeLine(aw, exportTrailer{Sig: sig}); err != nil {
		return 0, fmt.Errorf("outbox: export: %w", err)
	}
	if err := aw.Close(); err != nil {
		return 0, fmt.Errorf("outbox: export: %w", err)
	}
	return n, nil
}

// ReadExport decrypts a hand-carried file with headquarters' identities and
// verifies it: the certificate chains to roots (for client auth, at the
// file's creation time, so a file carried for weeks past a certificate
// renewal still imports), names the unit in the header, and its key signed
// the content. The unit id comes from the certificate, never from the body.
func ReadExport(r io.Reader, identities []age.Identity, roots *x509.CertPool) (*Export, error) {
	pr, err := age.Decrypt(r, identities...)
	if err != nil {
		return nil, fmt.Errorf("%w: decrypt: %w", ErrBadExport, err)
	}
	return parseExport(pr, roots, time.Now())
}

func parseExport(r io.Reader, roots *x509.CertPool, now time.Time) (*Export, error) {
	ex := &Export{}
	info, err := scanExport(r, roots, now, func(rec Record) error {
		ex.Records = append(ex.Records, rec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ex.Unit, ex.Created = info.Unit, info.Created
	return ex, nil
}

// ExportInfo describes a hand-carried file verified by ScanExport.
type ExportInfo struct {
	Unit    string
	Created time.Time
	Count   int
}

// ScanExport is ReadExport for files too large to hold in memory: it
// decrypts and checks r as a stream, calling fn with each record in file
// order, and returns nil only if the whole file verified (signature, count,
// nothing after the signature). fn sees records before the signature is
// checked: a caller that must act only on verified content scans twice
// (hub imports spool the encrypted file, scan once to verify, once to
// store). An error from fn stops the scan and is returned.
func ScanExport(r io.Reader, identities []age.Identity, roots *x509.CertPool, fn func(Record) error) (ExportInfo, error) {
	pr, err := age.Decrypt(r, identities...)
	if err != nil {
		return ExportInfo{}, fmt.Errorf("%w: decrypt: %w", ErrBadExport, err)
	}
	return scanExport(pr, roots, time.Now(), fn)
}

func scanExport(r io.Reader, roots *x509.CertPool, now time.Time, fn func(Record) error) (ExportInfo, error) {
	var info ExportInfo
	br := bufio.NewReaderSize(r, 64<<10)
	h := sha256.New()
	line, err := readLine(br, h)
	if err != nil {
		return info, err
	}
	var hdr exportHeader
	if err := json.Unmarshal(line, &hdr); err != nil || hdr.Format != ExportFormat {
		return info, fmt.Errorf("%w: not a %s file", ErrBadExport, ExportFormat)
	}
	if len(hdr.Certs) == 0 {
		return info, fmt.Errorf("%w: unsigned", ErrBadExport)
	}
	leaf, err := x509.ParseCertificate(hdr.Certs[0])
	if err != nil {
		return info, fmt.Errorf("%w: certificate: %w", ErrBadExport, err)
	}
	inter := x509.NewCertPool()
	for _, der := range hdr.Certs[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	if hdr.Created.After(now.Add(time.Hour)) {
		return info, fmt.Errorf("%w: created in the future", ErrBadExport)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: hdr.Created, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return info, fmt.Errorf("%w: certificate: %w", ErrBadExport, err)
	}
	unit, err := pki.UnitIDFromCert(leaf)
	if err != nil || unit != hdr.Unit {
		return info, fmt.Errorf("%w: certificate does not name unit %q", ErrBadExport, hdr.Unit)
	}
	info.Unit, info.Created = unit, hdr.Created
	for {
		digest := h.Sum(nil) // everything before this line
		line, err := readLine(br, h)
		if err != nil {
			return info, err
		}
		if bytes.HasPrefix(line, []byte(`{"sig":`)) {
			var tr exportTrailer
			if err := json.Unmarshal(line, &tr); err != nil {
				return info, fmt.Errorf("%w: trailer", ErrBadExport)
			}
			if !verifyDigest(leaf.PublicKey, digest, tr.Sig) {
				return info, fmt.Errorf("%w: signature does not verify", ErrBadExport)
			}
			if info.Count != hdr.Count {
				return info, fmt.Errorf("%w: %d records, header says %d", ErrBadExport, info.Count, hdr.Count)
			}
			if extra, _ := br.Peek(1); len(extra) > 0 {
				return info, fmt.Errorf("%w: data after signature", ErrBadExport)
			}
			return info, nil
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return info, fmt.Errorf("%w: record %d: %w", ErrBadExport, info.Count+1, err)
		}
		if err := rec.Validate(); err != nil {
			return info, fmt.Errorf("%w: record %d: %w", ErrBadExport, info.Count+1, err)
		}
		info.Count++
		if info.Count > hdr.Count {
			return info, fmt.Errorf("%w: more records than the header's %d", ErrBadExport, hdr.Count)
		}
		if err := fn(rec); err != nil {
			return info, err
		}
	}
}

// readLine reads one newline-terminated line (bounded), feeding it to h.
func readLine(br *bufio.Reader, h hash.Hash) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > 2*MaxPayloadSize {
			return nil, fmt.Errorf("%w: line too long", ErrBadExport)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: truncated (no signature)", ErrBadExport)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadExport, err)
	}
	h.Write(line)
	return line[:len(line)-1], nil
}

func writeLine(w io.Writer, v any) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func signDigest(k crypto.Signer, digest []byte) ([]byte, error) {
	if _, ok := k.Public().(ed25519.PublicKey); ok {
		return k.Sign(rand.Reader, digest, crypto.Hash(0))
	}
	return k.Sign(rand.Reader, digest, crypto.SHA256)
}

func verifyDigest(pub any, digest, sig []byte) bool {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(p, digest, sig)
	case ed25519.PublicKey:
		return ed25519.Verify(p, digest, sig)
	}
	return false
}
