package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// errTooLarge marks a batch beyond the item or byte limits (413).
var errTooLarge = errors.New("hub: batch too large")

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// decodeBatch reads the body of POST /v1/results as a stream: one record
// at a time is decoded and checked, so the hub never holds the raw body
// and its decoded copy at once, and a batch over maxItems is refused after
// item maxItems+1, not after the whole body. Unknown top-level members are
// skipped, for units newer than the hub.
func decodeBatch(r io.Reader, maxItems int) ([]outbox.Record, *audit.Anchor, error) {
	dec := json.NewDecoder(r)
	bad := func(err error) error { return fmt.Errorf("%w: %w", ErrBadBatch, err) }
	if err := expectDelim(dec, '{'); err != nil {
		return nil, nil, bad(err)
	}
	var recs []outbox.Record
	var anchor *audit.Anchor
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, bad(err)
		}
		key, _ := t.(string)
		switch key {
		case "items":
			if recs, err = decodeItems(dec, maxItems); err != nil {
				return nil, nil, err
			}
		case "audit":
			var a audit.Anchor
			if err := dec.Decode(&a); err != nil {
				return nil, nil, bad(fmt.Errorf("audit: %w", err))
			}
			anchor = &a
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, nil, bad(err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, nil, bad(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, bad(errors.New("data after the batch"))
	}
	return recs, anchor, nil
}

func decodeItems(dec *json.Decoder, maxItems int) ([]outbox.Record, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBatch, err)
	}
	if t == nil { // "items": null
		return nil, nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("%w: items is not an array", ErrBadBatch)
	}
	var recs []outbox.Record
	for dec.More() {
		if len(recs) == maxItems {
			return nil, fmt.Errorf("%w: more than %d items", errTooLarge, maxItems)
		}
		var r outbox.Record
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("%w: item %d: %w", ErrBadBatch, len(recs), err)
		}
		// Each record is validated by the store (checkRequest).
		recs = append(recs, r)
	}
	if err := expectDelim(dec, ']'); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBatch, err)
	}
	return recs, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q", want)
	}
	return nil
}
