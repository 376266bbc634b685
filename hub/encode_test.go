package hub

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

var metaSeeds = []string{
	`{"tx_id":"t1","decision":"HIT","hits":[{"kind":"person","ref_id":"P-17","category":"wanted","level":"hit"},{"kind":"document","ref_id":"D1","category":"stolen"}],"document":{"surname":"X","n":[1,2,{"a":"}"}]}}`,
	`{"decision":"CLEAR","hits":[],"x":"\"decision\":\"HIT\""}`,
	`{"Decision":"HIT"}`,
	`{"decision":"HIT","decision":"CLEAR"}`,
	`{"decision":5}`,
	`{"tx\u005fid":"escaped key","verdict":"confirmed"}`,
	`{"hits":{"kind":"x"}}`,
	`{"hits":[{"kind":5}]}`,
	`{"hits":[{"level":5,"kind":"p","ref_id":"1"}]}`,
	`{ "decision" : "REFER" , "hits" : null , "n" : -1.5e3 , "b" : true }`,
	`[1,2]`, `"x"`, `null`, `{}`,
	`{"decision":"HIT","hits":[{"kind":"person","ref_id":"P\u0000","category":"a\u001fb"}]}`,
	`{"ｄecision":"HIT","Kelvin\u212a":1}`,
}

// TestFastMetaAgrees: the fast metadata reader gives what encoding/json
// gives, or defers to it.
func TestFastMetaAgrees(t *testing.T) {
	for _, p := range metaSeeds {
		checkMeta(t, []byte(p))
	}
}

func checkMeta(t *testing.T, p []byte) {
	t.Helper()
	if !json.Valid(p) {
		return
	}
	r := outbox.Record{Payload: p}
	slow := recordMeta(&r)
	fast, ok := fastMeta(p)
	if ok && !reflect.DeepEqual(fast, slow) {
		t.Fatalf("payload %s:\nfast %+v\nslow %+v", p, fast, slow)
	}
	if got := metaOf(&r); !reflect.DeepEqual(got, slow) {
		t.Fatalf("metaOf(%s) = %+v, want %+v", p, got, slow)
	}
}

func checkEncode(t *testing.T, key, kind string, payload []byte) {
	t.Helper()
	if !json.Valid(payload) {
		return
	}
	st := Stored{Record: outbox.Record{Key: key, Seq: 42, Kind: kind, Priority: outbox.Hit,
		CreatedAt: time.Date(2030, 1, 2, 3, 4, 5, 6789, time.UTC), Payload: payload},
		Unit: "u1", UnitSeq: 7, ReceivedAt: time.Date(2030, 1, 2, 3, 4, 6, 0, time.FixedZone("X", 3600)), Source: SourceUpload}
	fast, ok := encodeStored(&st)
	if !ok {
		return
	}
	slow, err := json.Marshal(&st)
	if err != nil {
		t.Fatal(err)
	}
	var a, b Stored
	if err := json.Unmarshal(fast, &a); err != nil {
		t.Fatalf("fast encoding does not decode: %v\n%s", err, fast)
	}
	json.Unmarshal(slow, &b)
	ca, cb := compact(a.Payload), compact(b.Payload)
	a.Payload, b.Payload = nil, nil
	if !reflect.DeepEqual(a, b) || ca != cb {
		t.Fatalf("encodings differ:\nfast %s\nslow %s", fast, slow)
	}
	if !strings.Contains(string(slow), `"key":`) || (json.Valid(fast) && len(fast) < len(`{"key":""}`)) {
		t.Fatal("unexpected encoding")
	}
}

func compact(p json.RawMessage) string {
	var b strings.Builder
	var v any
	if json.Unmarshal(p, &v) != nil {
		return string(p)
	}
	out, _ := json.Marshal(v)
	b.Write(out)
	return b.String()
}

func TestEncodeStoredAgrees(t *testing.T) {
	for _, k := range []string{"u1:abc", `u1:"q"\<>&` + "\n\t\x01", "u1:é😀", "u1:\u2028"} {
		for _, p := range metaSeeds {
			checkEncode(t, k, "result", []byte(p))
		}
	}
}

// FuzzFastJSON: on any valid JSON payload, the fast metadata reader and
// record encoder agree with encoding/json.
func FuzzFastJSON(f *testing.F) {
	for _, p := range metaSeeds {
		f.Add("u1:k", "result", []byte(p))
	}
	f.Fuzz(func(t *testing.T, key, kind string, payload []byte) {
		checkMeta(t, payload)
		checkEncode(t, key, kind, payload)
	})
}
