package watchlist

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Document alerts are the bulk of a national watchlist (100 million SLTD
// records), so they are sealed in a compact binary form instead of JSON:
// roughly 70 bytes instead of 190 before sealing. The form round-trips every
// field exactly, so RecordDigest of a decoded alert equals that of the
// imported one. Version 2 adds PersonID (a listed person's own document);
// alerts without one are still written as version 1, so stores of either
// version read the same.
const (
	docCodecV1 = 1
	docCodecV2 = 2
)

func encodeDoc(dst []byte, d *DocumentAlert) []byte {
	fields := []string{d.ID, d.IssuingState, d.DocumentType, d.Number, d.Status, d.Source, d.Action, d.ReportedAt, d.ExpiresAt}
	if d.PersonID != "" {
		dst = append(dst, docCodecV2)
		fields = append(fields, d.PersonID)
	} else {
		dst = append(dst, docCodecV1)
	}
	for _, f := range fields {
		dst = binary.AppendUvarint(dst, uint64(len(f)))
		dst = append(dst, f...)
	}
	return dst
}

func decodeDoc(b []byte) (DocumentAlert, error) {
	var d DocumentAlert
	if len(b) == 0 || (b[0] != docCodecV1 && b[0] != docCodecV2) {
		return d, fmt.Errorf("%w: unknown document encoding", ErrCorrupt)
	}
	fields := []*string{&d.ID, &d.IssuingState, &d.DocumentType, &d.Number, &d.Status, &d.Source, &d.Action, &d.ReportedAt, &d.ExpiresAt}
	if b[0] == docCodecV2 {
		fields = append(fields, &d.PersonID)
	}
	b = b[1:]
	for _, f := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return d, fmt.Errorf("%w: truncated document", ErrCorrupt)
		}
		*f = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	if len(b) != 0 {
		return d, fmt.Errorf("%w: trailing bytes in document", ErrCorrupt)
	}
	return d, nil
}

// Face vectors are sealed as little-endian float32s: exact, and decrypting a
// million of them at open is a copy rather than a JSON parse.
func encodeVector(dst []byte, v []float32) []byte {
	for _, x := range v {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
	}
	return dst
}

func decodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%w: face vector length %d", ErrCorrupt, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
