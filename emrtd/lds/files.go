package lds

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// ErrFormat is returned when a file does not have the structure its
// specification gives.
var ErrFormat = errors.New("lds: malformed file")

// File identifies an elementary file of the eMRTD application.
type File struct {
	Name string
	FID  uint16
	SFI  byte
	Tag  byte // the file's outer tag
	DG   int  // data group number, 0 for EF.COM and EF.SOD
}

// The files a reader reads.
var (
	COM        = File{"COM", 0x011E, 0x1E, 0x60, 0}
	SOD        = File{"SOD", 0x011D, 0x1D, 0x77, 0}
	CardAccess = File{"CardAccess", 0x011C, 0x1C, 0x31, 0}
)

// DGFile returns data group n (1..16).
func DGFile(n int) File {
	tags := [...]byte{0, 0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70}
	if n < 1 || n > 16 {
		return File{}
	}
	return File{Name: fmt.Sprintf("DG%d", n), FID: 0x0100 + uint16(n), SFI: byte(n), Tag: tags[n], DG: n}
}

// DGByTag maps an EF.COM tag to its data group number (0 if unknown).
func DGByTag(tag byte) int {
	for n := 1; n <= 16; n++ {
		if DGFile(n).Tag == tag {
			return n
		}
	}
	return 0
}

// Com is EF.COM.
type Com struct {
	LDSVersion     string
	UnicodeVersion string
	DataGroups     []int
}

// ParseCOM parses EF.COM.
func ParseCOM(b []byte) (*Com, error) {
	t, err := tlv.Parse(b)
	if err != nil || t.Tag != 0x60 {
		return nil, fmt.Errorf("%w: EF.COM: %v", ErrFormat, errOrTag(err, t.Tag))
	}
	c := &Com{}
	els, err := tlv.All(t.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: EF.COM: %w", ErrFormat, err)
	}
	for _, e := range els {
		switch e.Tag {
		case 0x5F01:
			c.LDSVersion = printable(e.Value)
		case 0x5F36:
			c.UnicodeVersion = printable(e.Value)
		case 0x5C:
			for _, tg := range e.Value {
				if n := DGByTag(tg); n > 0 {
					c.DataGroups = append(c.DataGroups, n)
				}
			}
		}
	}
	sort.Ints(c.DataGroups)
	return c, nil
}

func errOrTag(err error, tag uint32) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("unexpected tag %X", tag)
}

func printable(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7F {
			sb.WriteByte(c)
		} else {
			sb.WriteByte('?')
		}
	}
	return sb.String()
}

// ParseDG1 returns the MRZ lines stored in DG1 (TD1: 3×30, TD2: 2×36,
// TD3: 2×44).
func ParseDG1(b []byte) ([]string, error) {
	t, err := tlv.Parse(b)
	if err != nil || t.Tag != 0x61 {
		return nil, fmt.Errorf("%w: DG1: %v", ErrFormat, errOrTag(err, t.Tag))
	}
	m, ok, err := tlv.Find(t.Value, 0x5F1F)
	if err != nil || !ok {
		return nil, fmt.Errorf("%w: DG1 has no MRZ (5F1F)", ErrFormat)
	}
	s := printable(m.Value)
	switch len(s) {
	case 90:
		return []string{s[:30], s[30:60], s[60:]}, nil
	case 72:
		return []string{s[:36], s[36:]}, nil
	case 88:
		return []string{s[:44], s[44:]}, nil
	}
	return nil, fmt.Errorf("%w: DG1 MRZ of %d characters", ErrFormat, len(s))
}

// DG11 holds additional personal details (all optional).
type DG11 struct {
	FullName       string   `json:"full_name,omitempty"`
	PersonalNumber string   `json:"personal_number,omitempty"`
	FullBirthDate  string   `json:"full_birth_date,omitempty"`
	PlaceOfBirth   string   `json:"place_of_birth,omitempty"`
	Address        string   `json:"address,omitempty"`
	Telephone      string   `json:"telephone,omitempty"`
	Profession     string   `json:"profession,omitempty"`
	Title          string   `json:"title,omitempty"`
	OtherNames     []string `json:"other_names,omitempty"`
}

// ParseDG11 parses DG11.
func ParseDG11(b []byte) (*DG11, error) {
	t, err := tlv.Parse(b)
	if err != nil || t.Tag != 0x6B {
		return nil, fmt.Errorf("%w: DG11: %v", ErrFormat, errOrTag(err, t.Tag))
	}
	d := &DG11{}
	err = walk(t.Value, func(e tlv.TLV) {
		v := utf8ish(e.Value)
		switch e.Tag {
		case 0x5F0E:
			d.FullName = v
		case 0x5F10:
			d.PersonalNumber = v
		case 0x5F2B:
			d.FullBirthDate = v
		case 0x5F11:
			d.PlaceOfBirth = v
		case 0x5F42:
			d.Address = v
		case 0x5F12:
			d.Telephone = v
		case 0x5F13:
			d.Profession = v
		case 0x5F14:
			d.Title = v
		case 0x5F0F:
			d.OtherNames = append(d.OtherNames, v)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: DG11: %w", ErrFormat, err)
	}
	return d, nil
}

// DG12 holds additional document details (all optional).
type DG12 struct {
	IssuingAuthority string `json:"issuing_authority,omitempty"`
	DateOfIssue      string `json:"date_of_issue,omitempty"`
	Endorsements     string `json:"endorsements,omitempty"`
	TaxExitReqs      string `json:"tax_exit_requirements,omitempty"`
	PersonalizedAt   string `json:"personalization_time,omitempty"`
	PersonalizerSN   string `json:"personalization_device,omitempty"`
}

// ParseDG12 parses DG12.
func ParseDG12(b []byte) (*DG12, error) {
	t, err := tlv.Parse(b)
	if err != nil || t.Tag != 0x6C {
		return nil, fmt.Errorf("%w: DG12: %v", ErrFormat, errOrTag(err, t.Tag))
	}
	d := &DG12{}
	err = walk(t.Value, func(e tlv.TLV) {
		v := utf8ish(e.Value)
		switch e.Tag {
		case 0x5F19:
			d.IssuingAuthority = v
		case 0x5F26:
			d.DateOfIssue = v
		case 0x5F1B:
			d.Endorsements = v
		case 0x5F1C:
			d.TaxExitReqs = v
		case 0x5F55:
			d.PersonalizedAt = v
		case 0x5F56:
			d.PersonalizerSN = v
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: DG12: %w", ErrFormat, err)
	}
	return d, nil
}

// walk visits the primitive elements of b, descending into constructed
// ones (bounded depth).
func walk(b []byte, f func(tlv.TLV)) error {
	return walkDepth(b, f, 0)
}

func walkDepth(b []byte, f func(tlv.TLV), depth int) error {
	if depth > 8 {
		return fmt.Errorf("nested too deep")
	}
	els, err := tlv.All(b)
	if err != nil {
		return err
	}
	for _, e := range els {
		if e.Constructed() && e.Tag != 0x5C {
			if err := walkDepth(e.Value, f, depth+1); err != nil {
				return err
			}
			continue
		}
		f(e)
	}
	return nil
}

func utf8ish(b []byte) string {
	s := string(b)
	if !strings.ContainsRune(s, '\uFFFD') {
		return strings.TrimSpace(s)
	}
	return printable(b)
}
