package chipsim

import (
	"crypto/sha1"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

// MRZKey is the part of the printed MRZ that opens the chip (Doc 9303 Part
// 11 §4.3.2 and §9.7.2): document number, date of birth and date of expiry
// (YYMMDD), without check digits.
type MRZKey struct {
	DocumentNumber string `json:"document_number"`
	DateOfBirth    string `json:"date_of_birth"`
	DateOfExpiry   string `json:"date_of_expiry"`
}

// Information is MRZ_information: the document number (filled with '<' to
// nine characters; a longer number is used whole), the dates, each followed
// by its check digit.
func (k MRZKey) Information() string {
	num := strings.ToUpper(k.DocumentNumber)
	for len(num) < 9 {
		num += "<"
	}
	return num + string(mrz.CheckDigit(num)) +
		k.DateOfBirth + string(mrz.CheckDigit(k.DateOfBirth)) +
		k.DateOfExpiry + string(mrz.CheckDigit(k.DateOfExpiry))
}

func (k MRZKey) validate() error {
	if k.DocumentNumber == "" {
		return fmt.Errorf("%w: MRZ key without document number", ErrConfig)
	}
	for _, d := range []string{k.DateOfBirth, k.DateOfExpiry} {
		if len(d) != 6 || strings.Trim(d, "0123456789") != "" {
			return fmt.Errorf("%w: MRZ key date %q is not YYMMDD", ErrConfig, d)
		}
	}
	return nil
}

// bacKeys returns the document basic access keys Kenc and Kmac:
// Kseed = SHA-1(MRZ_information)[0:16], then the KDF with counters 1 and 2.
func bacKeys(k MRZKey) (kenc, kmac []byte) {
	h := sha1.Sum([]byte(k.Information()))
	seed := h[:16]
	return kdf(seed, 1, cipher3DES, 16), kdf(seed, 2, cipher3DES, 16)
}

// getChallenge answers GET CHALLENGE (00 84 00 00 08): a fresh RND.IC, kept
// for the next MUTUAL AUTHENTICATE.
func (c *Card) getChallenge(cmd Command) ([]byte, uint16) {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return nil, swWrongP1P2
	}
	if cmd.Ne != 8 || len(cmd.Data) != 0 {
		return nil, swWrongLength
	}
	rnd := make([]byte, 8)
	if _, err := c.rand.Read(rnd); err != nil {
		return nil, swNoPreciseDiagnosis
	}
	c.challenge = rnd
	return rnd, swOK
}

// mutualAuthenticate is the chip's half of BAC (§4.3.3.1, Appendix D.3):
// check M.IFD, decrypt S = RND.IFD || RND.IC || K.IFD, check RND.IC, answer
// E.IC || M.IC over R = RND.IC || RND.IFD || K.IC and start 3DES secure
// messaging with Kseed = K.IFD xor K.IC and SSC = RND.IC[4:8] || RND.IFD[4:8].
func (c *Card) mutualAuthenticate(cmd Command) ([]byte, uint16) {
	if !c.cfg.bacEnabled() {
		return nil, swINSNotSupported
	}
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return nil, swWrongP1P2
	}
	challenge := c.challenge
	c.challenge = nil // one attempt per challenge
	if challenge == nil {
		return nil, swConditionsNotSat
	}
	if len(cmd.Data) != 40 {
		return nil, swWrongLength
	}
	c.count(func(s *statsCounters) { s.bacAttempts++ })
	if c.faults.RefuseBAC {
		return nil, swAuthFailed
	}
	kenc, kmac := bacKeys(c.cfg.MRZ)
	eIFD, mIFD := cmd.Data[:32], cmd.Data[32:]
	want, err := retailMAC(kmac, pad(eIFD, 8))
	if err != nil || !macEqual(want, mIFD) {
		return nil, swAuthFailed
	}
	block, err := tdes(kenc)
	if err != nil {
		return nil, swNoPreciseDiagnosis
	}
	s, _ := cbcDecrypt(block, make([]byte, 8), eIFD)
	rndIFD, rndIC, kIFD := s[:8], s[8:16], s[16:32]
	if subtle.ConstantTimeCompare(rndIC, challenge) != 1 {
		return nil, swAuthFailed
	}
	kIC := make([]byte, 16)
	if _, err := c.rand.Read(kIC); err != nil {
		return nil, swNoPreciseDiagnosis
	}
	r := make([]byte, 0, 32)
	r = append(append(append(r, challenge...), rndIFD...), kIC...)
	eIC := cbcEncrypt(block, make([]byte, 8), r)
	mIC, _ := retailMAC(kmac, pad(eIC, 8))

	seed := make([]byte, 16)
	subtle.XORBytes(seed, kIFD, kIC)
	ssc := append(append([]byte(nil), challenge[4:]...), rndIFD[4:]...)
	sm, err := newSM(cipher3DES, kdf(seed, 1, cipher3DES, 16), kdf(seed, 2, cipher3DES, 16), ssc)
	if err != nil {
		return nil, swNoPreciseDiagnosis
	}
	c.startSM(sm, accessBAC)
	return append(eIC, mIC...), swOK
}
