package chipsim

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/issuer"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Profile is the JSON description of one emulated chip, for `chipsim
// emulate` and the demo. Paths are relative to the profile file. Unknown
// fields are errors.
//
//	{
//	  "traveller": {
//	    "format": "TD3", "issuing_state": "UTO", "surname": "ERIKSSON",
//	    "given_names": ["ANNA", "MARIA"], "document_number": "L898902C",
//	    "nationality": "UTO", "birth_date": "1969-08-06",
//	    "expiry_date": "2031-06-23", "sex": "F", "can": "123456",
//	    "face": "anna.jpg", "face_jpeg2000": false,
//	    "dg11": {"full_name": "ERIKSSON<<ANNA<MARIA", "place_of_birth": "ZENITH"},
//	    "dg12": {"issuing_authority": "UTOPIA", "date_of_issue": "2021-06-24"}
//	  },
//	  "chip": {
//	    "aa_key": "rsa1024", "aa_hash": "SHA-1",
//	    "ca_key": "ec-brainpoolP256r1", "ca_suite": "AES-128",
//	    "pace": [{"suite": "AES-128", "curve": "brainpoolP256r1"}],
//	    "disable_bac": false, "max_extended_read": 4096, "atr": "3B80800101"
//	  },
//	  "signer": {"certificate": "pki/ds.pem", "key": "pki/ds.key"},
//	  "tamper": {"alter_after_signing": ["DG1"]},
//	  "faults": {"response_delay": "50ms"}
//	}
type Profile struct {
	Traveller ProfileTraveller `json:"traveller"`
	Chip      ProfileChip      `json:"chip"`
	// Signer is the document signer; without it the caller supplies one
	// (chipsim emulate makes a test PKI).
	Signer *ProfileSigner `json:"signer,omitempty"`
	Tamper issuer.Tamper  `json:"tamper"`
	Faults Faults         `json:"faults"`

	dir string
}

// ProfileTraveller is the holder and the printed document.
type ProfileTraveller struct {
	Format         string   `json:"format,omitempty"` // TD1, TD2, TD3 (default)
	DocumentCode   string   `json:"document_code,omitempty"`
	IssuingState   string   `json:"issuing_state"`
	Surname        string   `json:"surname"`
	GivenNames     []string `json:"given_names,omitempty"`
	DocumentNumber string   `json:"document_number"`
	Nationality    string   `json:"nationality"`
	BirthDate      string   `json:"birth_date"`  // YYYY-MM-DD
	ExpiryDate     string   `json:"expiry_date"` // YYYY-MM-DD
	Sex            string   `json:"sex,omitempty"`
	OptionalData   string   `json:"optional_data,omitempty"`
	CAN            string   `json:"can,omitempty"`
	// Face is a JPEG file; FaceJPEG2000 re-encodes it as JPEG 2000.
	Face         string       `json:"face,omitempty"`
	FaceJPEG2000 bool         `json:"face_jpeg2000,omitempty"`
	DG11         *ProfileDG11 `json:"dg11,omitempty"`
	DG12         *ProfileDG12 `json:"dg12,omitempty"`
}

// ProfileDG11 is the optional personal details group.
type ProfileDG11 struct {
	FullName        string   `json:"full_name,omitempty"`
	OtherNames      []string `json:"other_names,omitempty"`
	PersonalNumber  string   `json:"personal_number,omitempty"`
	FullDateOfBirth string   `json:"full_date_of_birth,omitempty"` // YYYY-MM-DD
	PlaceOfBirth    string   `json:"place_of_birth,omitempty"`
	Address         string   `json:"address,omitempty"`
	Telephone       string   `json:"telephone,omitempty"`
	Profession      string   `json:"profession,omitempty"`
	Title           string   `json:"title,omitempty"`
}

// ProfileDG12 is the optional document details group.
type ProfileDG12 struct {
	IssuingAuthority string `json:"issuing_authority,omitempty"`
	DateOfIssue      string `json:"date_of_issue,omitempty"` // YYYY-MM-DD
	Endorsements     string `json:"endorsements,omitempty"`
}

// ProfileChip chooses the chip's security features.
type ProfileChip struct {
	// AAKey / CAKey are key specifications (see issuer.GenerateChipKey);
	// AAKeyFile / CAKeyFile load fixed keys (PEM) instead.
	AAKey     string `json:"aa_key,omitempty"`
	AAKeyFile string `json:"aa_key_file,omitempty"`
	AAHash    string `json:"aa_hash,omitempty"` // SHA-1, SHA-224, SHA-256, SHA-384, SHA-512
	CAKey     string `json:"ca_key,omitempty"`
	CAKeyFile string `json:"ca_key_file,omitempty"`
	CASuite   string `json:"ca_suite,omitempty"` // 3DES, AES-128 (default), AES-192, AES-256
	CAKeyID   int    `json:"ca_key_id,omitempty"`
	// PACE lists EF.CardAccess's PACEInfos; none: a BAC-only chip.
	PACE []struct {
		Suite string `json:"suite"`
		Curve string `json:"curve"` // P-256, brainpoolP256r1, P-384, brainpoolP384r1
	} `json:"pace,omitempty"`
	DisableBAC      bool   `json:"disable_bac,omitempty"`
	MaxExtendedRead int    `json:"max_extended_read,omitempty"`
	ATR             string `json:"atr,omitempty"` // hex
}

// ProfileSigner names the document signer's PEM files.
type ProfileSigner struct {
	Certificate string `json:"certificate"`
	Key         string `json:"key"`
}

// LoadProfile reads and checks a profile.
func LoadProfile(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseProfile(b, filepath.Dir(path))
}

// ParseProfile decodes a profile whose relative paths start at dir.
func ParseProfile(b []byte, dir string) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: profile: %v", ErrConfig, err)
	}
	p.dir = dir
	return &p, nil
}

func (p *Profile) path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(p.dir, name)
}

// LoadSigner loads the profile's document signer, nil when it names none.
func (p *Profile) LoadSigner() (*issuer.CertKey, error) {
	if p.Signer == nil {
		return nil, nil
	}
	return issuer.LoadCertKey(p.path(p.Signer.Certificate), p.path(p.Signer.Key))
}

var suiteNames = map[string]int{"3DES": 1, "AES-128": 2, "AES-192": 3, "AES-256": 4}

var hashNames = map[string]crypto.Hash{
	"SHA-1": crypto.SHA1, "SHA-224": crypto.SHA224, "SHA-256": crypto.SHA256,
	"SHA-384": crypto.SHA384, "SHA-512": crypto.SHA512,
}

func profileDate(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not YYYY-MM-DD", ErrConfig, field, s)
	}
	return t, nil
}

// Build issues the document with ds and describes its chip.
func (p *Profile) Build(ds *issuer.CertKey) (Config, *issuer.LDS, error) {
	tr := p.Traveller
	var t issuer.Traveller
	var err error
	t.Format = mrz.Format(strings.ToUpper(tr.Format))
	t.DocumentCode, t.IssuingState, t.Surname, t.GivenNames = tr.DocumentCode, tr.IssuingState, tr.Surname, tr.GivenNames
	t.DocumentNumber, t.Nationality, t.Sex, t.OptionalData, t.CAN = tr.DocumentNumber, tr.Nationality, tr.Sex, tr.OptionalData, tr.CAN
	if t.BirthDate, err = profileDate("birth_date", tr.BirthDate); err != nil {
		return Config{}, nil, err
	}
	if t.ExpiryDate, err = profileDate("expiry_date", tr.ExpiryDate); err != nil {
		return Config{}, nil, err
	}
	if tr.Face != "" {
		face, err := os.ReadFile(p.path(tr.Face))
		if err != nil {
			return Config{}, nil, fmt.Errorf("%w: face: %v", ErrConfig, err)
		}
		if tr.FaceJPEG2000 {
			img, err := jpeg.Decode(bytes.NewReader(face))
			if err != nil {
				return Config{}, nil, fmt.Errorf("%w: face: %v", ErrConfig, err)
			}
			if face, err = issuer.EncodeJPEG2000(img, 20); err != nil {
				return Config{}, nil, err
			}
		}
		t.Face = issuer.FaceImage{Data: face, Sex: tr.Sex}
	}
	if d := tr.DG11; d != nil {
		dob, err := profileDate("full_date_of_birth", d.FullDateOfBirth)
		if err != nil {
			return Config{}, nil, err
		}
		t.Details = &issuer.PersonalDetails{FullName: d.FullName, OtherNames: d.OtherNames, PersonalNumber: d.PersonalNumber,
			FullDateOfBirth: dob, PlaceOfBirth: d.PlaceOfBirth, Address: d.Address, Telephone: d.Telephone,
			Profession: d.Profession, Title: d.Title}
	}
	if d := tr.DG12; d != nil {
		doi, err := profileDate("date_of_issue", d.DateOfIssue)
		if err != nil {
			return Config{}, nil, err
		}
		t.Document = &issuer.DocumentDetails{IssuingAuthority: d.IssuingAuthority, DateOfIssue: doi, Endorsements: d.Endorsements}
	}

	c := p.Chip
	o := issuer.Options{AAKey: c.AAKey, CAKey: c.CAKey, CAKeyID: c.CAKeyID, Tamper: p.Tamper}
	if c.AAHash != "" {
		h, ok := hashNames[c.AAHash]
		if !ok {
			return Config{}, nil, fmt.Errorf("%w: aa_hash %q", ErrConfig, c.AAHash)
		}
		o.AAHash = h
	}
	if c.CASuite != "" {
		s, ok := suiteNames[c.CASuite]
		if !ok {
			return Config{}, nil, fmt.Errorf("%w: ca_suite %q", ErrConfig, c.CASuite)
		}
		o.CASuite = s
	}
	for _, pc := range c.PACE {
		s, ok := suiteNames[pc.Suite]
		if !ok {
			return Config{}, nil, fmt.Errorf("%w: PACE suite %q", ErrConfig, pc.Suite)
		}
		o.PACE = append(o.PACE, issuer.PACEParams{Suite: s, Curve: pc.Curve})
	}
	if c.AAKeyFile != "" {
		if o.AAPrivateKey, err = loadKey(p.path(c.AAKeyFile)); err != nil {
			return Config{}, nil, err
		}
	}
	if c.CAKeyFile != "" {
		k, err := loadKey(p.path(c.CAKeyFile))
		if err != nil {
			return Config{}, nil, err
		}
		ek, ok := k.(*ecc.PrivateKey)
		if !ok {
			return Config{}, nil, fmt.Errorf("%w: ca_key_file must hold an EC PRIVATE KEY", ErrConfig)
		}
		o.CAPrivateKey = ek
	}
	if ds == nil {
		return Config{}, nil, fmt.Errorf("%w: no document signer", ErrConfig)
	}
	doc, err := issuer.Issue(t, ds, o)
	if err != nil {
		return Config{}, nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	cfg := FromLDS(doc)
	cfg.DisableBAC = c.DisableBAC
	cfg.MaxExtendedRead = c.MaxExtendedRead
	cfg.Faults = p.Faults
	if c.ATR != "" {
		if cfg.ATR, err = hex.DecodeString(c.ATR); err != nil {
			return Config{}, nil, fmt.Errorf("%w: atr: %v", ErrConfig, err)
		}
	}
	return cfg, doc, nil
}

func loadKey(path string) (crypto.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	k, err := issuer.ParsePrivateKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	return k, nil
}
