package watchlist

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// blindSize is the length of a blind-index key: 128 bits keeps collisions
// between 100 million records negligible (~10^-23).
const blindSize = 16

// idTagSize is the truncated id HMAC appended to a document's lookup key so
// that several alerts on one number get distinct keys; collisions only
// matter within one number's handful of alerts.
const idTagSize = 8

type blindKey [blindSize]byte

// blinder computes keyed HMACs for blind indexes. Each index uses its own
// domain prefix so equal plaintexts in different indexes give unrelated keys.
type blinder struct {
	pool sync.Pool
}

func newBlinder(key []byte) *blinder {
	k := append([]byte(nil), key...)
	b := &blinder{}
	b.pool.New = func() any { return hmac.New(sha256.New, k) }
	return b
}

// Domains of the blind indexes.
const (
	domDoc      = "doc"   // issuing state + normalised number
	domDocID    = "docid" // document alert id
	domPerson   = "pid"   // person id
	domName     = "name"  // match index key
	domTokenFrq = "tf"    // name token, for frequency counters
)

func (b *blinder) sum(domain string, parts ...string) blindKey {
	h := b.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(domain))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var full [sha256.Size]byte
	h.Sum(full[:0])
	b.pool.Put(h)
	var k blindKey
	copy(k[:], full[:])
	return k
}

func (b *blinder) doc(state, number string) blindKey { return b.sum(domDoc, state, number) }
func (b *blinder) docID(id string) blindKey          { return b.sum(domDocID, id) }
func (b *blinder) person(id string) blindKey         { return b.sum(domPerson, id) }
func (b *blinder) name(key string) blindKey          { return b.sum(domName, key) }
func (b *blinder) token(tok string) blindKey         { return b.sum(domTokenFrq, tok) }

// NormalizeState maps an issuing state or nationality as printed in an MRZ
// ("D<<", "d", " GBR") to the three-letter form watchlists use. Germany is
// the one state whose MRZ code is not three letters.
func NormalizeState(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.TrimRight(s, "<")
	if s == "D" {
		return "DEU"
	}
	return s
}

// NormalizeNumber reduces a document number to the characters an MRZ can
// carry: upper-case letters and digits, fillers, spaces and dashes removed.
func NormalizeNumber(n string) string {
	var sb strings.Builder
	sb.Grow(len(n))
	for _, r := range n {
		switch {
		case r >= 'a' && r <= 'z':
			sb.WriteRune(unicode.ToUpper(r))
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// NormalizeDocType reduces a document type to its first letter (P, I, A, C,
// V): MRZ codes like "PO", "P<" or "ID" and watchlist types like "P" or "ID"
// then compare by the family that matters.
func NormalizeDocType(t string) string {
	t = strings.ToUpper(strings.TrimSpace(t))
	t = strings.TrimLeft(t, "<")
	if t == "" {
		return ""
	}
	return t[:1]
}

// ocrPairs are the characters OCR engines confuse in MRZ document numbers.
var ocrPairs = map[byte]byte{
	'0': 'O', 'O': '0',
	'1': 'I', 'I': '1',
	'5': 'S', 'S': '5',
	'8': 'B', 'B': '8',
	'2': 'Z', 'Z': '2',
}

// maxVariants bounds the OCR variants tried per lookup: with up to two
// substitutions a 9-character number with every character confusable gives
// 1+9+36 = 46; the cap keeps a pathological 20-character number bounded.
const maxVariants = 64

// NumberVariant is one candidate spelling of a queried document number.
type NumberVariant struct {
	Number string
	// Changes lists the substitutions, e.g. "3:O>0"; empty for the number
	// as read.
	Changes []string
}

// OCRVariants returns the number as read, then variants with one, then two
// OCR-confusable characters swapped, at most maxVariants in all.
func OCRVariants(number string) []NumberVariant {
	out := []NumberVariant{{Number: number}}
	var pos []int
	for i := 0; i < len(number); i++ {
		if _, ok := ocrPairs[number[i]]; ok {
			pos = append(pos, i)
		}
	}
	// Positions are 1-based, as a technician counts characters.
	sub := func(i int) string {
		return strconv.Itoa(i+1) + ":" + string(number[i]) + ">" + string(ocrPairs[number[i]])
	}
	for _, i := range pos {
		if len(out) >= maxVariants {
			return out
		}
		b := []byte(number)
		b[i] = ocrPairs[b[i]]
		out = append(out, NumberVariant{Number: string(b), Changes: []string{sub(i)}})
	}
	for x := 0; x < len(pos); x++ {
		for y := x + 1; y < len(pos); y++ {
			if len(out) >= maxVariants {
				return out
			}
			i, j := pos[x], pos[y]
			b := []byte(number)
			b[i], b[j] = ocrPairs[b[i]], ocrPairs[b[j]]
			out = append(out, NumberVariant{Number: string(b), Changes: []string{sub(i), sub(j)}})
		}
	}
	return out
}
