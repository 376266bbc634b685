package demo

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/chip/pcsc"
	"github.com/checkpoint-edge/checkpoint/emrtd"
	"github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/vision"
)

// Chip roles: three clear travellers carry a passport chip.
const (
	ChipGenuine   = "chip_genuine"     // chip genuine, the face matches its photo
	ChipAltered   = "chip_altered_dg1" // DG1 changed after the state signed it
	ChipOtherFace = "chip_other_face"  // a genuine chip whose photo is someone else
)

// ChipFile is one traveller's emulated chip (chips/<index>.json): the
// files as the test issuing state signed them and the chip's secrets.
type ChipFile struct {
	Index int               `json:"index"`
	Role  string            `json:"role"`
	Key   chipsim.MRZKey    `json:"key"`
	Files map[string][]byte `json:"files"`
	AAKey []byte            `json:"aa_key"` // PKCS#8
}

// Card builds the emulated chip.
func (c *ChipFile) Card() (*chipsim.Card, error) {
	k, err := x509.ParsePKCS8PrivateKey(c.AAKey)
	if err != nil {
		return nil, err
	}
	return chipsim.NewCard(chipsim.Config{MRZ: c.Key, Files: c.Files, AAKey: k})
}

// ReadChips loads chips/*.json by traveller index.
func ReadChips(dir string) (map[int]*ChipFile, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[int]*ChipFile{}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var c ChipFile
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		out[c.Index] = &c
	}
	return out, nil
}

// makeChips gives three clear travellers a chip, issued by a test state
// per issuing state, and writes the unit's trust file. The genuine and
// the altered chip carry the traveller's own photo (chosen so that the
// 1:1 comparison with the camera passes); the third carries another
// person's. Every chip is verified as the unit will before the demo runs.
func makeChips(ctx context.Context, p Paths, rec recognizer, pl *plan, verify float32, now time.Time) (map[int]string, error) {
	chipDir := filepath.Join(p.Dir, "chips")
	if err := os.RemoveAll(chipDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(chipDir, 0o700); err != nil {
		return nil, err
	}
	threshold := float64(verify) // the unit's 1:1 distance for this model
	var clear []*plannedTraveller
	for _, t := range pl.travellers {
		if len(t.kinds) == 0 && t.doc != nil && t.doc.Format == mrz.FormatTD3 {
			clear = append(clear, t)
		}
	}
	// The photo a chip carries, and its 1:1 distance to the camera's view.
	photoDist := func(t *plannedTraveller, photo string) ([]byte, float64, error) {
		var jpg []byte
		if err := emrtdtest.Do(func(tb emrtdtest.TB) { jpg = emrtdtest.PassportPhoto(tb, photo) }); err != nil {
			return nil, 0, err
		}
		img, err := vision.DecodeImage(jpg)
		if err != nil {
			return nil, 0, err
		}
		faces, err := rec.Faces(ctx, img)
		if err != nil || len(faces) == 0 {
			return jpg, 9, nil
		}
		return jpg, float64(vision.Distance(faces[0].Descriptor, t.sub.LiveVec)), nil
	}
	roles := map[int]string{}
	states := map[string]*emrtdtest.State{}
	var trust []*x509.Certificate
	for _, role := range []string{ChipGenuine, ChipAltered, ChipOtherFace} {
		var pick *plannedTraveller
		var face []byte
		for _, t := range clear {
			if roles[t.index] != "" {
				continue
			}
			photo := t.sub.Live
			if role == ChipOtherFace {
				for _, o := range pl.travellers {
					if o.sub != t.sub {
						photo = o.sub.Live
						break
					}
				}
			}
			jpg, d, err := photoDist(t, photo)
			if err != nil {
				return nil, err
			}
			if (role == ChipOtherFace) == (d > threshold) {
				pick, face = t, jpg
				break
			}
		}
		if pick == nil {
			continue // too few clear travellers: fewer chips
		}
		roles[pick.index] = role
		cc := pa.Alpha2(pick.doc.IssuingState)
		if cc == "" {
			cc = strings.ToUpper(pick.doc.IssuingState[:2])
		}
		st := states[cc]
		var cf *ChipFile
		err := emrtdtest.Do(func(tb emrtdtest.TB) {
			if st == nil {
				st = emrtdtest.NewState(tb, cc)
				states[cc] = st
				trust = append(trust, st.CSCA)
			}
			aa := emrtdtest.ECKey(tb)
			files := st.Files(tb, emrtdtest.Doc{MRZ: pick.lines, Face: face, AAKey: aa})
			if role == ChipAltered {
				dg1 := string(files["DG1"])
				i := strings.Index(dg1, "<<")
				files["DG1"] = []byte(dg1[:i-1] + alterLetter(dg1[i-1]) + dg1[i:])
			}
			der, err := x509.MarshalPKCS8PrivateKey(aa)
			if err != nil {
				tb.Fatal(err)
			}
			cf = &ChipFile{Index: pick.index, Role: role, Files: files, AAKey: der, Key: chipKey(pick.doc)}
		})
		if err != nil {
			return nil, fmt.Errorf("chip of traveller %d: %w", pick.index, err)
		}
		if err := checkChip(cf, trust, pick.doc, now); err != nil {
			return nil, err
		}
		b, _ := json.Marshal(cf)
		if err := atomicfile.WriteFile(filepath.Join(chipDir, fmt.Sprintf("%02d.json", pick.index)), b, 0o600); err != nil {
			return nil, err
		}
	}
	sort.Slice(trust, func(i, j int) bool { return pa.Country(trust[i]) < pa.Country(trust[j]) })
	if err := atomicfile.WriteFile(filepath.Join(p.State, "chip-trust.pem"), pa.EncodePEM(pa.Set{CSCAs: trust}), 0o644); err != nil {
		return nil, err
	}
	return roles, nil
}

func alterLetter(c byte) string {
	if c == 'X' {
		return "Y"
	}
	return "X"
}

func chipKey(d *mrz.Document) chipsim.MRZKey {
	k := chipsim.MRZKey{DocumentNumber: d.DocumentNumber}
	if f, ok := d.FieldByName(mrz.FieldBirthDate); ok {
		k.DateOfBirth = f.Raw
	}
	if f, ok := d.FieldByName(mrz.FieldExpiryDate); ok {
		k.DateOfExpiry = f.Raw
	}
	return k
}

// checkChip verifies a chip's files as the unit will: the genuine ones
// pass passive authentication, the altered one fails on DG1.
func checkChip(c *ChipFile, trust []*x509.Certificate, doc *mrz.Document, now time.Time) error {
	st := pa.NewStore()
	if err := st.InstallTrust(pa.Set{CSCAs: trust}); err != nil {
		return err
	}
	d := &emrtd.Dump{Format: emrtd.DumpFormat, Files: c.Files}
	r := emrtd.Verify(d, st, doc, emrtd.VerifyOptions{Now: now})
	want := emrtd.Genuine
	if c.Role == ChipAltered {
		want = emrtd.Failed
	}
	if r.Verdict != want {
		return fmt.Errorf("%w: chip of traveller %d is %s (%s), designed %s", ErrSelfCheck, c.Index, r.Verdict, r.Reason, want)
	}
	if c.Role == ChipAltered && (len(r.PA.FailedGroups) != 1 || r.PA.FailedGroups[0] != 1) {
		return fmt.Errorf("%w: altered chip fails on %v", ErrSelfCheck, r.PA.FailedGroups)
	}
	return nil
}

// ChipFeeder lays the travellers' emulated chips on the demo's virtual
// reader (vpcd at VPCD) and takes them off for travellers without one.
type ChipFeeder struct {
	Chips  map[int]*ChipFile
	VPCD   string // vpcd's address, 127.0.0.1:PORT
	Socket string // pcscd's socket, to wait until it sees the chip

	em *chipsim.Emulator
	on int // traveller whose chip is on the reader
}

// Role is traveller i's chip role ("" without a chip).
func (f *ChipFeeder) Role(i int) string {
	if c := f.Chips[i]; c != nil {
		return c.Role
	}
	return ""
}

// Present puts traveller i's chip on the reader (or none), and waits until
// pcscd has seen the change, so the daemon finds it when the MRZ arrives.
func (f *ChipFeeder) Present(ctx context.Context, i int) error {
	if f.on == i && f.em != nil {
		return nil
	}
	if f.em != nil {
		f.em.Close()
		f.em = nil
		f.on = 0
		if err := f.wait(ctx, false); err != nil {
			return err
		}
	}
	c := f.Chips[i]
	if c == nil {
		return nil
	}
	card, err := c.Card()
	if err != nil {
		return err
	}
	f.em = chipsim.NewEmulator(f.VPCD, card, nil)
	if err := f.em.Insert(); err != nil {
		f.em = nil
		return err
	}
	f.on = i
	return f.wait(ctx, true)
}

// Close takes any chip off the reader.
func (f *ChipFeeder) Close() {
	if f.em != nil {
		f.em.Close()
	}
}

func (f *ChipFeeder) wait(ctx context.Context, present bool) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	for {
		cl, err := pcsc.Dial(ctx, f.Socket)
		if err == nil {
			rs, err := cl.Readers(ctx)
			cl.Close()
			if err == nil && len(rs) > 0 && rs[0].Present() == present {
				time.Sleep(150 * time.Millisecond) // the daemon polls every 100 ms
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pcscd did not see the chip %s", map[bool]string{true: "arrive", false: "leave"}[present])
		case <-time.After(50 * time.Millisecond):
		}
	}
}
