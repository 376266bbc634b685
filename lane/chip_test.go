package lane

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

// chipStub is a lane-level ChipSource: what the unit's chip reader would
// return. The card protocol itself is tested in emrtd against the
// emulated chip through pcscd; here only the lane's use of the result is.
type chipStub struct {
	res   ChipResult
	delay time.Duration
}

func (c chipStub) Read(ctx context.Context, doc *mrz.Document, expected bool) ChipResult {
	select {
	case <-time.After(c.delay):
	case <-ctx.Done():
	}
	r := c.res
	r.View.Expected = expected
	return r
}
func (c chipStub) Up() bool { return true }

type slowFaces struct {
	staticFaces
	delay time.Duration
}

func (s slowFaces) Capture(ctx context.Context, w time.Duration) (FaceCapture, error) {
	time.Sleep(s.delay)
	return s.fc, nil
}

var liveDesc = func() []float32 { d := make([]float32, 128); d[0] = 0.5; return d }()

func descAt(dist float32) []float32 {
	d := append([]float32(nil), liveDesc...)
	d[1] = dist
	return d
}

func genuineChip() ChipResult {
	return ChipResult{View: ChipView{State: ChipRead, Verdict: "genuine", Line: "chip genuine", PassiveAuth: "valid", Consistent: true, HasPhoto: true},
		Photo: []byte("chip-jpeg"), Descriptor: descAt(0.1), ModelID: "m"}
}

func TestChipDecisions(t *testing.T) {
	pol := Policy{ReferWithoutFace: true, ReferInvalidMRZ: true,
		Chip: ChipPolicy{ReferIntegrity: true, ReferFaceMismatch: true, ReferUnreadable: true, FaceDistance: 0.29, Expected: "passports"}}
	altered := genuineChip()
	altered.View = ChipView{State: ChipRead, Verdict: "failed", Integrity: true, PassiveAuth: "invalid", PAStep: "data_group_hashes",
		FailedGroups: []int{1}, Reason: "DG1 does not match the signed hash", Line: "chip FAILED: DG1 does not match the signed hash", HasPhoto: true}
	otherFace := genuineChip()
	otherFace.Descriptor = descAt(0.6)
	noCSCA := genuineChip()
	noCSCA.View.Verdict, noCSCA.View.PassiveAuth, noCSCA.View.Line = "not_verified", "not_verifiable", "chip not verified: no CSCA of UT is trusted"
	unreadable := ChipResult{View: ChipView{State: ChipUnreadable, Line: "chip refused access: MRZ does not open this chip"}}

	cases := []struct {
		name     string
		chip     ChipResult
		policy   Policy
		decision Decision
		reason   string
		text     string
	}{
		{"genuine", genuineChip(), pol, Clear, "", ""},
		{"DG1 altered", altered, pol, Refer, ReasonDocumentIntegrity, "Document integrity: DG1 does not match the signed hash"},
		{"face does not match the chip", otherFace, pol, Refer, ReasonFaceMismatch, "Face does not match the document photo"},
		{"no CSCA: shown, not an alarm", noCSCA, pol, Clear, "", ""},
		{"unreadable expected chip", unreadable, pol, Refer, ReasonChipUnreadable, "Chip unreadable: chip refused access: MRZ does not open this chip"},
		{"unreadable, policy ignores", unreadable, Policy{ReferWithoutFace: true, Chip: ChipPolicy{FaceDistance: 0.29}}, Clear, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := &recQueue{}
			p, err := New(Config{Unit: "u", Mode: "egate", Policy: c.policy, FaceImages: "hits",
				Faces: staticFaces{up: true, fc: FaceCapture{Captured: true, Quality: .8, Descriptor: liveDesc, ModelID: "m"}},
				Chip:  chipStub{res: c.chip}, Checker: staticChecker{}, Queue: q, Audit: &recAudit{}, Broker: NewBroker()})
			if err != nil {
				t.Fatal(err)
			}
			tx, err := p.Process(context.Background(), DocumentEvent{Document: testDoc(t), Source: "gate"})
			if err != nil {
				t.Fatal(err)
			}
			if tx.Decision != c.decision || (c.reason != "" && !slices.Contains(tx.Reasons, c.reason)) {
				t.Fatalf("decision %s %v, want %s %s", tx.Decision, tx.Reasons, c.decision, c.reason)
			}
			if c.text != "" && !slices.Contains(tx.Texts, c.text) {
				t.Fatalf("texts %q, want %q", tx.Texts, c.text)
			}
			if tx.Chip == nil || !tx.Chip.Expected || tx.Chip.Line == "" {
				t.Fatalf("chip view %+v", tx.Chip)
			}
			if tx.Chip.State == ChipRead && (tx.Chip.Face == nil || !tx.Chip.Face.Compared || tx.Chip.Face.Threshold != 0.29) {
				t.Fatalf("1:1 %+v", tx.Chip.Face)
			}
			// HQ gets the outcome; the chip photo only under the image
			// policy (hits), never for these.
			var r Result
			json.Unmarshal(q.items[0].Payload, &r)
			if r.Chip == nil || r.Chip.State != tx.Chip.State || len(r.ChipJPEG) != 0 {
				t.Fatalf("outbox chip %+v, %d image bytes", r.Chip, len(r.ChipJPEG))
			}
			if strings.Contains(string(q.items[0].Payload), "chip-jpeg") {
				t.Fatal("chip photo in the outbox")
			}
		})
	}
}

// TestChipReadInParallel: the chip read overlaps the face capture.
func TestChipReadInParallel(t *testing.T) {
	const d = 400 * time.Millisecond
	p, _ := New(Config{Policy: Policy{Chip: ChipPolicy{FaceDistance: 0.29}},
		Faces: slowFaces{staticFaces{up: true, fc: FaceCapture{Captured: true, Descriptor: liveDesc, ModelID: "m"}}, d},
		Chip:  chipStub{res: genuineChip(), delay: d}, Checker: staticChecker{}, Queue: &recQueue{}, Audit: &recAudit{}, Broker: NewBroker()})
	start := time.Now()
	tx, err := p.Process(context.Background(), DocumentEvent{Document: testDoc(t), Source: "scanner"})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el >= 2*d {
		t.Fatalf("chip and face took %v: not in parallel", el)
	}
	if tx.Chip == nil || !tx.Chip.Face.Match {
		t.Fatalf("chip %+v", tx.Chip)
	}
}
