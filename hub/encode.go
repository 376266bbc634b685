package hub

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// Ingestion's CPU goes mostly to JSON: decoding the batch, reading each
// payload's metadata, encoding the record to seal. The two helpers here
// do the last two without encoding/json's reflection and re-scanning;
// FuzzFastJSON checks they agree with encoding/json on every input.

// appendString appends s as a JSON string. s must be valid UTF-8.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default: // other control characters, and <, >, & as encoding/json does
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// encodeStored is json.Marshal(st) with the (validated) payload copied as
// it is. ok is false when a string is not valid UTF-8 or holds U+2028 or
// U+2029 (which encoding/json escapes); the caller then uses
// encoding/json.
func encodeStored(st *Stored) (b []byte, ok bool) {
	for _, s := range []string{st.Key, st.Kind, st.Unit, st.Source} {
		if !utf8.ValidString(s) || containsLineSep(s) {
			return nil, false
		}
	}
	prio, err := st.Priority.MarshalText()
	if err != nil {
		return nil, false
	}
	b = make([]byte, 0, 256+len(st.Payload))
	b = append(b, `{"key":`...)
	b = appendString(b, st.Key)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, st.Seq, 10)
	b = append(b, `,"kind":`...)
	b = appendString(b, st.Kind)
	b = append(b, `,"priority":"`...)
	b = append(b, prio...)
	b = append(b, `","created_at":"`...)
	b = st.CreatedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","payload":`...)
	b = append(b, st.Payload...)
	b = append(b, `,"unit":`...)
	b = appendString(b, st.Unit)
	b = append(b, `,"unit_seq":`...)
	b = strconv.AppendUint(b, st.UnitSeq, 10)
	b = append(b, `,"received_at":"`...)
	b = st.ReceivedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","source":`...)
	b = appendString(b, st.Source)
	return append(b, '}'), true
}

func containsLineSep(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == 0xe2 && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9) {
			return true
		}
	}
	return false
}

// fastMeta reads the metadata of a payload that is valid JSON (the batch
// decoder checked it): it walks the top-level object, skipping values it
// does not need without decoding them, and decodes only tx_id, decision,
// verdict and hits. ok is false when the payload is not an object or a
// wanted value does not decode as expected; the caller then uses
// encoding/json (recordMeta).
func fastMeta(p []byte) (m meta, ok bool) {
	i := skipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return meta{}, false
	}
	i++
	var hitsRaw []byte
	seen := map[string]bool{}
	for {
		i = skipSpace(p, i)
		if i < len(p) && p[i] == '}' {
			break
		}
		if i >= len(p) || p[i] != '"' {
			return meta{}, false
		}
		kEnd := skipString(p, i)
		if kEnd < 0 {
			return meta{}, false
		}
		rawKey := p[i:kEnd]
		i = skipSpace(p, kEnd)
		if i >= len(p) || p[i] != ':' {
			return meta{}, false
		}
		i = skipSpace(p, i+1)
		vEnd := skipValue(p, i)
		if vEnd < 0 {
			return meta{}, false
		}
		val := p[i:vEnd]
		var key string
		if !slices.Contains(rawKey, '\\') {
			key = string(rawKey[1 : len(rawKey)-1])
		} else if json.Unmarshal(rawKey, &key) != nil {
			return meta{}, false
		}
		// encoding/json matches keys case-insensitively; an unusual key
		// goes the slow way rather than risk a different answer.
		switch key {
		case "tx_id", "decision", "verdict", "hits":
			if seen[key] {
				return meta{}, false // duplicate key: the slow path decides
			}
			seen[key] = true
			if key == "hits" {
				hitsRaw = val
				break
			}
			if val[0] == 'n' { // null
				break
			}
			var s string
			if val[0] != '"' || json.Unmarshal(val, &s) != nil {
				return meta{}, false
			}
			switch key {
			case "tx_id":
				m.TxID = clip(s)
			case "decision":
				m.Decision = clip(s)
			case "verdict":
				m.Verdict = clip(s)
			}
		default:
			if !plainKey(key) {
				return meta{}, false
			}
		}
		i = skipSpace(p, vEnd)
		if i < len(p) && p[i] == ',' {
			i++
			continue
		}
		if i < len(p) && p[i] == '}' {
			break
		}
		return meta{}, false
	}
	switch m.Decision {
	case "CLEAR", "REFER", "HIT":
	default:
		m.Decision = ""
	}
	if len(hitsRaw) > 0 && hitsRaw[0] != 'n' {
		var hits []struct {
			Kind     string `json:"kind"`
			RefID    string `json:"ref_id"`
			Category string `json:"category"`
		}
		if json.Unmarshal(hitsRaw, &hits) != nil {
			return meta{}, false
		}
		m.Hits = len(hits)
		for _, h := range hits {
			if c := clip(h.Category); c != "" && !slices.Contains(m.Categories, c) {
				m.Categories = append(m.Categories, c)
			}
			if h.RefID != "" {
				if e := clip(h.Kind + ":" + h.RefID); !slices.Contains(m.Entries, e) {
					m.Entries = append(m.Entries, e)
				}
			}
		}
	}
	return m, true
}

// plainKey reports whether no other spelling of the wanted keys could match
// it under encoding/json's case-insensitive matching.
func plainKey(k string) bool {
	switch len(k) {
	case len("tx_id"), len("decision"), len("verdict"), len("hits"):
		for _, w := range []string{"tx_id", "decision", "verdict", "hits"} {
			if len(w) == len(k) && equalFoldASCII(w, k) {
				return false
			}
		}
	}
	// Non-ASCII keys may fold to ASCII letters (K for the Kelvin sign).
	for i := 0; i < len(k); i++ {
		if k[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func equalFoldASCII(a, b string) bool {
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at p[i] == '"'.
func skipString(p []byte, i int) int {
	for j := i + 1; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at p[i], or -1.
func skipValue(p []byte, i int) int {
	if i >= len(p) {
		return -1
	}
	switch p[i] {
	case '"':
		return skipString(p, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(p); j++ {
			switch p[j] {
			case '"':
				e := skipString(p, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		j := i
		for j < len(p) && p[j] != ',' && p[j] != '}' && p[j] != ']' && p[j] != ' ' && p[j] != '\t' && p[j] != '\n' && p[j] != '\r' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

// metaOf is recordMeta, the fast way when the payload allows.
func metaOf(r *outbox.Record) meta {
	if m, ok := fastMeta(r.Payload); ok {
		return m
	}
	return recordMeta(r)
}
