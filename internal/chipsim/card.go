package chipsim

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"fmt"
	"io"
	"sync"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// DefaultATR is the ATR a PC/SC contactless reader builds for an ISO/IEC
// 14443-4 card without historical bytes (PC/SC Part 3 §3.1.3.2.3).
var DefaultATR = []byte{0x3B, 0x80, 0x80, 0x01, 0x01}

// Config describes one chip. Files holds the LDS as issued (see package
// issuer); the keys are the chip's secrets that never leave it.
type Config struct {
	// MRZ opens the chip by BAC and by PACE with the MRZ password.
	MRZ MRZKey
	// CAN is the card access number, a second PACE password; empty: none.
	CAN string
	// DisableBAC makes a PACE-only chip: MUTUAL AUTHENTICATE is unknown.
	DisableBAC bool
	// Files by name: CardAccess, COM, SOD, DG1 … DG16. The PACE protocols
	// the chip runs are those its EF.CardAccess announces; the Chip
	// Authentication protocol is the one DG14 announces.
	Files map[string][]byte
	// AAKey answers INTERNAL AUTHENTICATE (Active Authentication): an
	// *rsa.PrivateKey, *ecdsa.PrivateKey or *ecc.PrivateKey; nil: no AA.
	AAKey crypto.PrivateKey
	// AAHash is the digest of Active Authentication: for RSA, SHA-1 (the
	// default, trailer BC) or SHA-224/256/384/512 (trailer xxCC); for
	// ECDSA, the hash DG14's ActiveAuthenticationInfo names (default
	// SHA-256).
	AAHash crypto.Hash
	// CAKey is the Chip Authentication private key whose public half is in
	// DG14; nil: no Chip Authentication.
	CAKey any // *ecc.PrivateKey or *ecdsa.PrivateKey
	// ATR answers vpcd's ATR requests (default DefaultATR).
	ATR []byte
	// MaxExtendedRead caps the data of one READ BINARY with an extended Le
	// (default 4096, at most 65280 so that a protected answer fits one vpcd
	// message).
	MaxExtendedRead int
	// Rand is the chip's randomness (default crypto/rand); the worked
	// examples of Doc 9303 replay theirs through it.
	Rand io.Reader
	// Faults make the chip misbehave.
	Faults Faults
}

func (c *Config) bacEnabled() bool { return !c.DisableBAC }

// accessKind records how the current session was opened.
type accessKind int

const (
	accessNone accessKind = iota
	accessBAC
	accessPACE
	accessCA // secure messaging re-keyed by Chip Authentication
)

// Stats counts what a card has been asked; tests read them.
type Stats struct {
	Commands      int // APDUs processed
	Reads         int // READ BINARY commands
	BACAttempts   int // MUTUAL AUTHENTICATE with a pending challenge
	PACEAttempts  int // PACE runs that reached the mutual authentication step
	SMAborts      int // sessions ended by an SM error or a plain command
	AASignatures  int // INTERNAL AUTHENTICATE answered
	CACompletions int // Chip Authentications that re-keyed the session
}

// Card is an emulated eMRTD chip. Process is not safe for concurrent use;
// the Emulator serialises APDUs as a contactless field does.
type Card struct {
	cfg    Config
	fs     *fileSystem
	rand   io.Reader
	faults Faults
	atr    []byte
	maxExt int

	aa        *aaKey
	ca        *caKey
	paceInfos []paceInfo

	// Session state, cleared by Reset.
	inApp     bool
	current   *file
	challenge []byte
	sm        *smSession
	access    accessKind
	pace      *paceState
	caSel     *caProtocol
	pendingSM *smSession

	statsMu sync.Mutex
	stats   statsCounters
}

type statsCounters struct {
	commands, reads, bacAttempts, paceAttempts, smAborts, aaSignatures, caCompletions int
}

// NewCard checks cfg and builds the chip.
func NewCard(cfg Config) (*Card, error) {
	if err := cfg.MRZ.validate(); err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(cfg.Files))
	for name, data := range cfg.Files {
		files[name] = data
	}
	for _, name := range cfg.Faults.MalformedLength {
		data, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("%w: malformed_length names %q, which the chip does not hold", ErrConfig, name)
		}
		files[name] = malformLength(data)
	}
	fs, err := newFileSystem(files)
	if err != nil {
		return nil, err
	}
	c := &Card{cfg: cfg, fs: fs, rand: cfg.Rand, faults: cfg.Faults, atr: cfg.ATR, maxExt: cfg.MaxExtendedRead}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	if len(c.atr) == 0 {
		c.atr = DefaultATR
	}
	if c.maxExt <= 0 {
		c.maxExt = 4096
	}
	if c.maxExt > 0xFF00 {
		c.maxExt = 0xFF00
	}
	if f := fs.byName(FileCardAccess); f != nil {
		if c.paceInfos, err = parsePACEInfos(f.data); err != nil {
			return nil, fmt.Errorf("%w: EF.CardAccess: %v", ErrConfig, err)
		}
	}
	if c.aa, err = newAAKey(cfg.AAKey, cfg.AAHash, cfg.Faults.Clone, c.rand); err != nil {
		return nil, err
	}
	if cfg.CAKey != nil {
		var dg14 []byte
		if f := fs.byName("DG14"); f != nil {
			dg14 = f.data
		}
		if c.ca, err = newCAKey(cfg.CAKey, dg14, cfg.Faults.Clone, c.rand); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ATR returns the answer to reset.
func (c *Card) ATR() []byte { return bytes.Clone(c.atr) }

// Reset is a power cycle: selections, challenges and session keys are gone.
func (c *Card) Reset() {
	c.inApp = false
	c.current = nil
	c.challenge = nil
	c.sm = nil
	c.access = accessNone
	c.pace = nil
	c.caSel = nil
	c.pendingSM = nil
}

// Stats returns the counters so far.
func (c *Card) Stats() Stats {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	s := c.stats
	return Stats{s.commands, s.reads, s.bacAttempts, s.paceAttempts, s.smAborts, s.aaSignatures, s.caCompletions}
}

func (c *Card) count(f func(*statsCounters)) {
	c.statsMu.Lock()
	f(&c.stats)
	c.statsMu.Unlock()
}

// startSM begins a secure-messaging session.
func (c *Card) startSM(sm *smSession, how accessKind) {
	sm.badMACFrom = c.faults.BadResponseMAC
	c.sm, c.access = sm, how
	c.pace = nil
}

// endSM aborts the session (Doc 9303 Part 11 §9.8: an SM error or a plain
// command ends secure messaging; the keys are erased).
func (c *Card) endSM() {
	if c.sm != nil {
		c.count(func(s *statsCounters) { s.smAborts++ })
	}
	c.sm, c.access, c.pendingSM = nil, accessNone, nil
	c.caSel = nil
}

// Process answers one command APDU with a response APDU (data and status
// word).
func (c *Card) Process(apdu []byte) []byte {
	c.count(func(s *statsCounters) { s.commands++ })
	cmd, err := ParseCommand(apdu)
	if err != nil {
		c.endSM()
		return appendSW(nil, swWrongLength)
	}
	if cmd.CLA&0x0C == 0x0C {
		if c.sm == nil {
			return appendSW(nil, swSMNotSupported)
		}
		inner, sw := c.sm.unwrap(cmd)
		if sw != 0 {
			c.endSM()
			return appendSW(nil, sw)
		}
		sm := c.sm
		data, sw := c.dispatch(inner, true)
		resp := sm.wrap(inner.INS, data, sw)
		if c.pendingSM != nil {
			// Chip Authentication: the answer goes under the old keys,
			// everything after under the new ones.
			c.startSM(c.pendingSM, accessCA)
			c.pendingSM = nil
		}
		return resp
	}
	if c.sm != nil {
		c.endSM()
	}
	data, sw := c.dispatch(cmd, false)
	return appendSW(data, sw)
}

// dispatch runs a plain (or unwrapped) command. secured tells whether it
// arrived under secure messaging.
func (c *Card) dispatch(cmd Command, secured bool) ([]byte, uint16) {
	if cmd.CLA&0xE3 != 0 {
		return nil, swCLANotSupported
	}
	if cmd.CLA&0x10 != 0 && cmd.INS != 0x86 {
		return nil, swChainingNotSupp
	}
	switch cmd.INS {
	case 0xA4:
		return c.selectFile(cmd)
	case 0xB0, 0xB1:
		c.count(func(s *statsCounters) { s.reads++ })
		return c.readBinary(cmd, secured)
	case 0x84:
		return c.getChallenge(cmd)
	case 0x82:
		if secured {
			return nil, swConditionsNotSat
		}
		return c.mutualAuthenticate(cmd)
	case 0x22:
		return c.manageSecurityEnvironment(cmd, secured)
	case 0x86:
		return c.generalAuthenticate(cmd, secured)
	case 0x88:
		return c.internalAuthenticate(cmd, secured)
	}
	return nil, swINSNotSupported
}

// selectFile is SELECT (ISO/IEC 7816-4 §11.2.2): the eMRTD application by
// AID (P1 04), the master file (P1 00, no data or 3F00), an EF of the
// current DF by FID (P1 00 or 02).
func (c *Card) selectFile(cmd Command) ([]byte, uint16) {
	fci := cmd.P2&0x0C != 0x0C // P2 0C: no response data
	if cmd.P2&^0x0C != 0 {
		return nil, swWrongP1P2
	}
	switch cmd.P1 {
	case 0x04:
		if !bytes.Equal(cmd.Data, AID) {
			return nil, swFileNotFound
		}
		c.inApp, c.current = true, nil
		if fci {
			return lds.EncodeTLV(0x6F, lds.EncodeTLV(0x84, AID)), swOK
		}
		return nil, swOK
	case 0x00, 0x02:
		if cmd.P1 == 0x00 && (len(cmd.Data) == 0 || bytes.Equal(cmd.Data, []byte{0x3F, 0x00})) {
			c.inApp, c.current = false, nil
			return nil, swOK
		}
		if len(cmd.Data) != 2 {
			return nil, swWrongLength
		}
		f := c.fs.byFID(uint16(cmd.Data[0])<<8|uint16(cmd.Data[1]), !c.inApp)
		if f == nil {
			return nil, swFileNotFound
		}
		c.current = f
		if fci {
			fcp := lds.EncodeTLV(0x62,
				lds.EncodeTLV(0x80, []byte{byte(len(f.data) >> 8), byte(len(f.data))}),
				lds.EncodeTLV(0x83, cmd.Data))
			return fcp, swOK
		}
		return nil, swOK
	}
	return nil, swWrongP1P2
}

// readBinary is READ BINARY, even INS B0 (15-bit offset in P1-P2, or a
// short file identifier in P1 with an 8-bit offset in P2) and odd INS B1
// (file in P1-P2, offset in DO'54', data returned in DO'53').
func (c *Card) readBinary(cmd Command, secured bool) ([]byte, uint16) {
	var f *file
	var offset int
	if cmd.INS == 0xB0 {
		if cmd.P1&0x80 != 0 {
			if cmd.P1&0x60 != 0 {
				return nil, swWrongP1P2
			}
			if f = c.fs.bySFI(cmd.P1&0x1F, !c.inApp); f == nil {
				return nil, swFileNotFound
			}
			offset = int(cmd.P2)
		} else {
			offset = int(cmd.P1)<<8 | int(cmd.P2)
		}
	} else {
		p := uint16(cmd.P1)<<8 | uint16(cmd.P2)
		switch {
		case p == 0:
		case p&0xFFE0 == 0 && p&0x1F != 0x1F:
			if f = c.fs.bySFI(byte(p&0x1F), !c.inApp); f == nil {
				return nil, swFileNotFound
			}
		default:
			if f = c.fs.byFID(p, !c.inApp); f == nil {
				return nil, swFileNotFound
			}
		}
		do54, ok, err := lds.Find(cmd.Data, 0x54)
		if err != nil || !ok || len(do54.Value) == 0 || len(do54.Value) > 3 {
			return nil, swWrongData
		}
		for _, b := range do54.Value {
			offset = offset<<8 | int(b)
		}
	}
	if f == nil {
		if f = c.current; f == nil {
			return nil, swNoCurrentEF
		}
	}
	if !f.free && !secured {
		return nil, swSecurityStatus
	}
	c.current = f
	if cmd.Ne == 0 {
		return nil, swWrongLength
	}
	if offset >= len(f.data) {
		return nil, swOffsetOutside
	}
	limit := cmd.Ne
	if !cmd.Extended && limit > 256 {
		limit = 256
	}
	if cmd.Extended && limit > c.maxExt {
		limit = c.maxExt
	}
	if cmd.INS == 0xB1 {
		// DO'53' header: tag and a length of up to three bytes.
		limit -= 1 + len(lds.EncodeLength(limit))
		if limit <= 0 {
			return nil, swWrongLength
		}
	}
	end := min(offset+limit, len(f.data))
	data := f.data[offset:end]
	if cmd.INS == 0xB1 {
		return lds.EncodeTLV(0x53, data), swOK
	}
	return bytes.Clone(data), swOK
}
