package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// FuzzDecodeBatch feeds arbitrary bodies of POST /v1/results through the
// streaming decoder and the store: never a panic; a batch is refused whole
// or acknowledged whole; and every payload the decoder accepts is valid
// JSON (the store skips re-checking it, and splices it into the sealed
// record as it is).
func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(`{"items":[{"key":"u1:a","seq":1,"kind":"r","priority":"hit","created_at":"2030-01-01T00:00:00Z","payload":{"decision":"HIT","hits":[{"kind":"person","ref_id":"P1","category":"x"}]}}]}`))
	f.Add([]byte(`{"items":[{"key":"u1:a","kind":"r","priority":"routine","payload":"\u0000"},{"key":"u1:a","kind":"r","priority":"hit","payload":1}]}`))
	f.Add([]byte(`{"items":[{"key":"u2:a","kind":"r","priority":"hit","payload":{}}]}`))
	f.Add([]byte(`{"items":null,"audit":{"head":{"seq":1,"hash":"00"}}}`))
	f.Add([]byte(`{"x":[1,2,{"y":null}],"items":[]}`))
	f.Add([]byte(`{"items":[]} {}`))
	f.Add([]byte(`[]`))
	dir := f.TempDir()
	kp := seal.FileKey{Path: filepath.Join(dir, "k")}
	if err := seal.GenerateKeyFile(kp.Path); err != nil {
		f.Fatal(err)
	}
	st, err := OpenBolt(filepath.Join(dir, "hub.db"), kp, BoltOptions{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, anchor, err := decodeBatch(bytes.NewReader(body), 50)
		if err != nil {
			if !errors.Is(err, ErrBadBatch) && !errors.Is(err, errTooLarge) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		for _, r := range recs {
			// An absent payload is refused by the store (ValidateFields);
			// any other must be valid JSON.
			if len(r.Payload) > 0 && !json.Valid(r.Payload) {
				t.Fatalf("decoder accepted a payload that is not JSON: %q", r.Payload)
			}
		}
		res, err := st.Ingest(context.Background(), IngestRequest{Unit: "u1", Records: recs, Source: SourceUpload, Audit: anchor, payloadsChecked: true})
		if err != nil {
			if !errors.Is(err, ErrBadBatch) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if len(res.Acked) != len(recs) || res.New+res.Duplicates != len(recs) {
			t.Fatalf("partial acknowledgement: %+v for %d items", res, len(recs))
		}
	})
}

// TestSealStoredRoundTrip: the spliced encoding reads back byte for byte,
// whatever the payload and the other fields hold.
func TestSealStoredRoundTrip(t *testing.T) {
	s, err := seal.NewSealer(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{`{}`, `1`, `"x"`, `null`, "{ \"a\" :\n [1, 2] }", `{"payload":0,"x":"\"payload\":0"}`, `"é😀\u0000"`} {
		st := Stored{Record: outbox.Record{Key: `u1:"payload":0`, Kind: `k"payload":0`, Priority: outbox.Hit, Payload: json.RawMessage(p)},
			Unit: "u1", UnitSeq: 7, Source: SourceUpload}
		sealed, err := sealStored(s, &st)
		if err != nil {
			t.Fatal(err)
		}
		got, err := openStored(s, "u1", 7, sealed)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if string(got.Payload) != p || got.Key != st.Key || got.Kind != st.Kind || got.UnitSeq != 7 {
			t.Fatalf("round trip of %q: %+v", p, got)
		}
		if _, err := openStored(s, "u1", 8, sealed); err == nil {
			t.Fatal("a sealed record opened at another unit_seq")
		}
	}
}
