package pa

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
)

// TrustRecord is the data of one record of a "trust" channel bundle
// (sync/bundle FORMAT.md, channel bundles): one CSCA certificate, one CRL
// or one ICAO master list, DER.
//
//	{"id": "csca-UT-3f1c…", "data": {"type": "csca", "der": "<base64>"}}
type TrustRecord struct {
	Type string `json:"type"` // csca, crl, masterlist
	DER  []byte `json:"der"`
}

// Trust record types.
const (
	TrustCSCA       = "csca"
	TrustCRL        = "crl"
	TrustMasterList = "masterlist"
)

// RecordsFromSet turns a trust set into channel records (one per
// certificate and CRL), for building a trust bundle.
func RecordsFromSet(s Set) ([]bundle.Record, error) {
	var out []bundle.Record
	add := func(id, typ string, der []byte) error {
		b, err := json.Marshal(TrustRecord{Type: typ, DER: der})
		if err != nil {
			return err
		}
		out = append(out, bundle.Record{ID: id, Data: b})
		return nil
	}
	for _, c := range s.CSCAs {
		if err := add(fmt.Sprintf("csca-%s-%x", Country(c), c.SubjectKeyId), TrustCSCA, c.Raw); err != nil {
			return nil, err
		}
	}
	for i, r := range s.CRLs {
		if err := add(fmt.Sprintf("crl-%d-%x", i, r.AuthorityKeyId), TrustCRL, r.Raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetFromRecords decodes and checks trust records: every certificate a CA,
// every master list's own signature valid.
func SetFromRecords(recs []bundle.Record) (Set, error) {
	var s Set
	for _, r := range recs {
		var tr TrustRecord
		if err := json.Unmarshal(r.Data, &tr); err != nil {
			return Set{}, fmt.Errorf("%w: record %s: %w", ErrTrust, r.ID, err)
		}
		switch tr.Type {
		case TrustCSCA:
			c, err := x509.ParseCertificate(tr.DER)
			if err != nil {
				return Set{}, fmt.Errorf("%w: record %s: %w", ErrTrust, r.ID, err)
			}
			if !c.IsCA {
				return Set{}, fmt.Errorf("%w: record %s is not a CA certificate", ErrTrust, r.ID)
			}
			s.CSCAs = append(s.CSCAs, c)
		case TrustCRL:
			crl, err := x509.ParseRevocationList(tr.DER)
			if err != nil {
				return Set{}, fmt.Errorf("%w: record %s: %w", ErrTrust, r.ID, err)
			}
			s.CRLs = append(s.CRLs, crl)
		case TrustMasterList:
			ml, _, err := ParseMasterList(tr.DER)
			if err != nil {
				return Set{}, fmt.Errorf("record %s: %w", r.ID, err)
			}
			s = Merge(s, ml)
		default:
			return Set{}, fmt.Errorf("%w: record %s of unknown type %q", ErrTrust, r.ID, tr.Type)
		}
	}
	return s, nil
}

// TrustChannel is the consumer of "trust" channel bundles: it keeps the
// set each channel delivered and hands the union to OnChange.
type TrustChannel struct {
	mu       sync.Mutex
	channels map[string]Set
	onChange func(Set)
}

var _ channel.Consumer = (*TrustChannel)(nil)

// NewTrustChannel returns an empty consumer.
func NewTrustChannel() *TrustChannel { return &TrustChannel{channels: map[string]Set{}} }

// Validate implements channel.Consumer: a bundle with any unusable record
// is refused whole.
func (t *TrustChannel) Validate(ch string, recs []bundle.Record) error {
	_, err := SetFromRecords(recs)
	return err
}

// Load implements channel.Consumer.
func (t *TrustChannel) Load(st channel.State, recs []bundle.Record) {
	s, err := SetFromRecords(recs)
	if err != nil {
		s = Set{} // validated before storing; unreachable unless tampered
	}
	s.Source = fmt.Sprintf("trust/%s bundle %d", st.Channel, st.Sequence)
	t.mu.Lock()
	t.channels[st.Channel] = s
	f := t.onChange
	all := t.unionLocked()
	t.mu.Unlock()
	if f != nil {
		f(all)
	}
}

func (t *TrustChannel) unionLocked() Set {
	var u Set
	for _, s := range t.channels {
		u = Merge(u, s)
	}
	return u
}

// Set returns the union of every channel's set.
func (t *TrustChannel) Set() Set {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.unionLocked()
}

// OnChange registers f, called with the union after every load.
func (t *TrustChannel) OnChange(f func(Set)) {
	t.mu.Lock()
	t.onChange = f
	t.mu.Unlock()
}
