package emrtd

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/emrtd/sm"
)

// Options tune a read.
type Options struct {
	// Groups are the data groups read when EF.COM lists them (default 1,
	// 2, 11, 12, 14, 15; DG3 and DG4 need Extended Access Control).
	Groups []int
	// Limits bound each file in bytes (defaults: DG2 192 KiB, SOD
	// 32 KiB, others 16 KiB). A file announcing more is not read.
	Limits map[string]int
	// Timeout bounds the whole read (default 10s).
	Timeout time.Duration
	// ResumeWindow is how long a card taken off the reader may take to
	// come back before the read gives up (default 3s).
	ResumeWindow time.Duration
	// NoPACE skips PACE (BAC only); NoActiveAuth and NoChipAuth skip
	// the clone checks.
	NoPACE, NoActiveAuth, NoChipAuth bool
	Rand                             io.Reader
	Now                              func() time.Time
}

// DefaultGroups are read when present.
var DefaultGroups = []int{1, 2, 11, 12, 14, 15}

func (o Options) withDefaults() Options {
	if len(o.Groups) == 0 {
		o.Groups = DefaultGroups
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.ResumeWindow == 0 {
		o.ResumeWindow = 3 * time.Second
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func (o Options) limit(name string) int {
	if l, ok := o.Limits[name]; ok && l > 0 {
		return l
	}
	switch name {
	case "DG2":
		return 192 << 10
	case "SOD":
		return 32 << 10
	case "DG3", "DG4", "DG5", "DG7":
		return 192 << 10
	}
	return 16 << 10
}

// session is a read in progress.
type session struct {
	open   Opener
	key    Key
	opt    Options
	c      *conn
	dump   *Dump
	pace   *lds.PACEInfo
	caDone *lds.CAInfo
	caKey  *lds.CAPublicKey
	rd     reading
	apdus  int
}

// Read opens the chip on the reader with key, reads it and runs the clone
// checks the chip supports. A wrong key gives ErrAccessDenied; a chip not
// presented in time ErrNoChip; a chip taken away and not brought back
// within the resume window ErrRemoved; a read over its deadline
// ErrTimeout. The dump of what was read is returned with the error when
// there is one.
func Read(ctx context.Context, open Opener, key Key, opt Options) (*Dump, error) {
	opt = opt.withDefaults()
	if err := key.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	start := opt.Now()
	s := &session{open: open, key: key, opt: opt, dump: &Dump{Format: DumpFormat, ReadAt: start.UTC(),
		Files: map[string][]byte{}, Unavailable: map[string]string{}, Malformed: map[string]string{}}, rd: reading{chunk: longChunk}}
	defer func() {
		if s.c != nil {
			s.apdus += s.c.apdus
			s.c.card.Close()
		}
		s.dump.APDUs = s.apdus
		s.dump.DurationMS = float64(opt.Now().Sub(start).Microseconds()) / 1000
	}()
	err := s.run(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ErrAccessDenied) {
		if errors.Is(err, ErrNoChip) {
			return s.dump, err
		}
		return s.dump, fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return s.dump, err
}

func (s *session) run(ctx context.Context) error {
	if err := s.connect(ctx, ctx); err != nil {
		return err
	}
	// EF.COM first: it lists the groups.
	com, err := s.readOne(ctx, lds.COM)
	if err != nil && !errors.Is(err, errNotAvailable) {
		return err
	}
	want := s.opt.Groups
	if com != nil {
		if c, err := lds.ParseCOM(com); err == nil {
			var listed []int
			for _, g := range want {
				if slices.Contains(c.DataGroups, g) {
					listed = append(listed, g)
				}
			}
			want = listed
		}
	}
	// DG14 and Chip Authentication before the rest: the remaining files
	// are then read under the chip-authenticated keys.
	if slices.Contains(want, 14) {
		if b, err := s.readOne(ctx, lds.DGFile(14)); err == nil && !s.opt.NoChipAuth {
			if err := s.chipAuth(ctx, b); err != nil {
				return err
			}
		} else if err != nil && !errors.Is(err, errNotAvailable) {
			return err
		}
	}
	if _, err := s.readOne(ctx, lds.SOD); err != nil && !errors.Is(err, errNotAvailable) {
		return err
	}
	for _, g := range want {
		if g == 14 {
			continue
		}
		if _, err := s.readOne(ctx, lds.DGFile(g)); err != nil && !errors.Is(err, errNotAvailable) {
			return err
		}
	}
	if b, ok := s.dump.Files["DG15"]; ok && !s.opt.NoActiveAuth {
		if err := s.activeAuth(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// connect opens the card and runs access control (PACE, else BAC), then
// repeats Chip Authentication when it ran before a resumption.
func (s *session) connect(ctx, waitCtx context.Context) error {
	card, err := s.open(waitCtx)
	if err != nil {
		if ctx.Err() != nil || waitCtx.Err() != nil {
			return fmt.Errorf("%w: %w", ErrNoChip, err)
		}
		return fmt.Errorf("%w: %w", ErrNoChip, err)
	}
	s.c = &conn{card: card}
	if err := s.access(ctx); err != nil {
		return err
	}
	if s.caDone != nil {
		if err := s.c.chipAuth(ctx, *s.caDone, *s.caKey, s.opt.Rand); err != nil {
			return fmt.Errorf("chip authentication after resuming: %w", err)
		}
	}
	return nil
}

func (s *session) access(ctx context.Context) error {
	c := s.c
	if !s.opt.NoPACE && s.dump.Access != "BAC" {
		if s.pace == nil && s.dump.CardAccess == nil {
			fr := &fileRead{f: lds.CardAccess, total: -1}
			if err := c.readFile(ctx, fr, 4096, &reading{}); err == nil {
				s.dump.CardAccess = fr.data
				if infos, err := lds.ParseSecurityInfos(fr.data); err == nil {
					if p, _, ok := paceSupported(infos.PACE); ok {
						s.pace = &p
					}
				}
			} else if errors.Is(err, ErrRemoved) || errors.Is(err, ErrTimeout) {
				return err
			}
		}
		if s.pace != nil {
			_, curve, _ := paceSupported([]lds.PACEInfo{*s.pace})
			err := c.pace(ctx, *s.pace, curve, s.key, s.opt.Rand)
			if err == nil {
				s.dump.Access, s.dump.PACE = "PACE", s.pace.OID
				if err := c.selectApp(ctx); err != nil {
					return fmt.Errorf("after PACE: %w", err)
				}
				return nil
			}
			if errors.Is(err, ErrAccessDenied) || errors.Is(err, ErrRemoved) || errors.Is(err, ErrTimeout) {
				return err
			}
			// Fall back to BAC on a PACE the chip did not carry through.
			s.dump.PACE = s.pace.OID + " failed: " + err.Error()
		}
	}
	if s.key.CAN != "" {
		return fmt.Errorf("%w: the CAN opens a chip through PACE only, and PACE did not run", ErrKey)
	}
	c.sm = nil
	if err := c.selectApp(ctx); err != nil {
		return err
	}
	if err := c.bac(ctx, s.key, s.opt.Rand); err != nil {
		// A chip without BAC (or that lets anyone read) answers 6D00.
		if swIs(err, 0x6D00) {
			s.dump.Access = "none"
			c.sm = nil
			return nil
		}
		return err
	}
	s.dump.Access = "BAC"
	return nil
}

// step runs f, resuming after a short card removal: the card is awaited
// for the resume window, access control runs again, and f is retried
// (file reads continue from where they stopped).
func (s *session) step(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil || !errors.Is(err, ErrRemoved) || s.dump.Resumes >= 3 || ctx.Err() != nil {
			return err
		}
		s.dump.Resumes++
		s.apdus += s.c.apdus
		s.c.card.Close()
		s.c = nil
		wctx, cancel := context.WithTimeout(ctx, s.opt.ResumeWindow)
		cerr := s.connect(ctx, wctx)
		cancel()
		if cerr != nil {
			if errors.Is(cerr, ErrNoChip) {
				return fmt.Errorf("%w: not back within %v", ErrRemoved, s.opt.ResumeWindow)
			}
			return cerr
		}
	}
}

// readOne reads a file into the dump.
func (s *session) readOne(ctx context.Context, f lds.File) ([]byte, error) {
	fr := &fileRead{f: f, total: -1}
	err := s.step(ctx, func() error { return s.c.readFile(ctx, fr, s.opt.limit(f.Name), &s.rd) })
	if errors.Is(err, errMalformedFile) {
		s.dump.Malformed[f.Name] = err.Error()
		s.dump.Files[f.Name] = fr.data
		return fr.data, nil
	}
	if err != nil {
		if errors.Is(err, errNotAvailable) || errors.Is(err, ErrTooLarge) {
			s.dump.Unavailable[f.Name] = err.Error()
			if errors.Is(err, ErrTooLarge) {
				return nil, fmt.Errorf("%w", errNotAvailable)
			}
		}
		return nil, err
	}
	s.dump.Files[f.Name] = fr.data
	return fr.data, nil
}

func (s *session) chipAuth(ctx context.Context, dg14 []byte) error {
	infos, err := lds.ParseDG14(dg14)
	if err != nil {
		s.dump.ChipAuth = &CAOutcome{Detail: "DG14 unreadable: " + err.Error()}
		return nil
	}
	info, key, ok := pickCA(infos)
	if !ok {
		if len(infos.CA) > 0 || len(infos.CAKeys) > 0 {
			s.dump.ChipAuth = &CAOutcome{Detail: "no supported chip authentication variant in DG14"}
		}
		return nil
	}
	out := &CAOutcome{OID: info.OID}
	s.dump.ChipAuth = out
	err = s.step(ctx, func() error {
		if err := s.c.chipAuth(ctx, info, key, s.opt.Rand); err != nil {
			return err
		}
		// The chip proves it holds the private key by answering under
		// the new keys.
		return s.c.selectFile(ctx, lds.COM.FID)
	})
	if err == nil {
		out.OK = true
		s.caDone, s.caKey = &info, &key
		return nil
	}
	if errors.Is(err, ErrRemoved) || errors.Is(err, ErrTimeout) || ctx.Err() != nil {
		return err
	}
	out.Detail = "the chip did not continue under the chip-authenticated keys: " + err.Error()
	// Secure messaging is gone: open the chip again to read the rest.
	s.apdus += s.c.apdus
	s.c.card.Close()
	s.c = nil
	if err := s.connect(ctx, ctx); err != nil {
		return err
	}
	return nil
}

func pickCA(infos *lds.SecurityInfos) (lds.CAInfo, lds.CAPublicKey, bool) {
	for _, k := range infos.CAKeys {
		for _, ci := range infos.CA {
			if _, ok := caAlg(ci.OID); !ok {
				continue
			}
			if ci.KeyID == 0 || k.KeyID == 0 || ci.KeyID == k.KeyID {
				return ci, k, true
			}
		}
		if len(infos.CA) == 0 {
			// DG14 of CA version 1 chips may omit ChipAuthenticationInfo:
			// 3DES is then implied.
			return lds.CAInfo{OID: lds.OIDCAECDH + ".1", Version: 1}, k, true
		}
	}
	return lds.CAInfo{}, lds.CAPublicKey{}, false
}

func (s *session) activeAuth(ctx context.Context, dg15 []byte) error {
	if _, err := lds.ParseDG15(dg15); err != nil {
		s.dump.ActiveAuth = &AAExchange{Error: "DG15 unreadable: " + err.Error()}
		return nil
	}
	ch := make([]byte, 8)
	if _, err := io.ReadFull(s.opt.Rand, ch); err != nil {
		return err
	}
	ex := &AAExchange{Challenge: ch}
	s.dump.ActiveAuth = ex
	err := s.step(ctx, func() error {
		resp, err := s.c.ok(ctx, "active authentication", sm.Command{INS: 0x88, Data: ch, Ne: 256})
		if err != nil {
			return err
		}
		ex.Response = resp
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrRemoved) || errors.Is(err, ErrTimeout) || ctx.Err() != nil {
			return err
		}
		ex.Error = err.Error()
	}
	return nil
}
