package unittest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/device/chip/pcsc"
	"github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim"
	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/vision"
)

// Chip is the fixture's passport chip reader: a private pcscd with a vpcd
// reader, the chip emulator, and a test issuing state (New Zealand, like
// the fixture's Clear traveller) whose CSCA the unit trusts.
type Chip struct {
	Server *pcsctest.Server
	State  *emrtdtest.State
	em     *chipsim.Emulator
}

// ChipDoc describes the chip to put on the reader.
type ChipDoc struct {
	MRZ []string // the chip's DG1 (usually the printed MRZ)
	// Face is the DG2 photo: a file name in the faces dir, or raw bytes.
	FacePhoto string
	Face      []byte
	// AlterDG1 changes DG1 after signing (a forged data page).
	AlterDG1 bool
	// Clone gives the chip keys that do not match DG14/DG15.
	Clone bool
}

// AddChip enables the chip reader on the unit: call it after New and
// before the unit starts. Policy: passports should have chips.
func (f *Fixture) AddChip(t testing.TB) *Chip {
	t.Helper()
	c := &Chip{Server: pcsctest.StartTB(t, pcsctest.Options{}), State: emrtdtest.NewState(t, "NZ")}
	trust := filepath.Join(f.Dir, "state", "chip-trust.pem")
	must(t, os.WriteFile(trust, pa.EncodePEM(pa.Set{CSCAs: c.State.CSCAsForTrust()}), 0o644))
	cfg := *f.Config
	cfg.Chip = config.Chip{Enabled: true, Socket: c.Server.SocketPath, Reader: c.Server.Reader, Trust: trust,
		ReadTimeout: config.Duration(5 * time.Second), PresentWait: config.Duration(time.Second),
		APDUTimeout: config.Duration(3 * time.Second), ResumeWindow: config.Duration(2 * time.Second)}
	b, err := yaml.Marshal(cfg)
	must(t, err)
	must(t, os.WriteFile(f.ConfigPath, b, 0o600))
	f.Config, err = config.Load(f.ConfigPath)
	must(t, err)
	t.Cleanup(func() { c.Remove() })
	return c
}

// Insert puts a chip issued for d on the reader (replacing any).
func (c *Chip) Insert(t testing.TB, d ChipDoc) {
	t.Helper()
	c.Remove()
	face := d.Face
	if d.FacePhoto != "" {
		dir, err := vision.FindFaces()
		Need(t, err == nil, "labelled face photos")
		face = emrtdtest.PassportPhoto(t, filepath.Join(dir, d.FacePhoto))
	}
	aa := emrtdtest.ECKey(t)
	files := c.State.Files(t, emrtdtest.Doc{MRZ: d.MRZ, Face: face, AAKey: aa})
	if d.AlterDG1 {
		dg1 := string(files["DG1"])
		i := strings.Index(dg1, "<<")
		files["DG1"] = []byte(dg1[:i-1] + "X" + dg1[i:]) // one letter of the surname
	}
	doc := mrz.Parse(d.MRZ, mrz.Options{})
	key := chipsim.MRZKey{DocumentNumber: doc.DocumentNumber}
	if fl, ok := doc.FieldByName(mrz.FieldBirthDate); ok {
		key.DateOfBirth = fl.Raw
	}
	if fl, ok := doc.FieldByName(mrz.FieldExpiryDate); ok {
		key.DateOfExpiry = fl.Raw
	}
	card, err := chipsim.NewCard(chipsim.Config{MRZ: key, Files: files, AAKey: aa, Faults: chipsim.Faults{Clone: d.Clone}})
	must(t, err)
	c.em = chipsim.NewEmulator(c.Server.VPCDAddr, card, nil)
	must(t, c.em.Insert())
	c.waitPresent(t, true)
}

// Remove takes the chip off the reader and waits until pcscd saw it go.
func (c *Chip) Remove() {
	if c.em != nil {
		c.em.Close()
		c.em = nil
		c.waitPresent(nil, false)
	}
}

// waitPresent waits (bounded) until pcscd reports the card in or out, as
// the unit's reader will see it at its next poll.
func (c *Chip) waitPresent(t testing.TB, want bool) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		cl, err := pcsc.Dial(ctx, c.Server.SocketPath)
		if err == nil {
			rs, err := cl.Readers(ctx)
			cl.Close()
			if err == nil && len(rs) > 0 && rs[0].Present() == want {
				cancel()
				time.Sleep(200 * time.Millisecond) // the unit polls every 100 ms
				return
			}
		}
		cancel()
		time.Sleep(50 * time.Millisecond)
	}
	if t != nil {
		t.Fatalf("pcscd did not see the chip %s", map[bool]string{true: "inserted", false: "removed"}[want])
	}
}
