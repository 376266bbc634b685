package gate_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/checkpoint-edge/checkpoint/gate"
	"github.com/checkpoint-edge/checkpoint/lane"
)

// TestChipMessageMatchesSpec: a message with the chip outcome and the 1:1
// comparison validates against the Message schema of the spec, and
// carries no personal data.
func TestChipMessageMatchesSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["Message"].Value
	tx := &lane.Transaction{ID: "t1", State: "decided", Decision: lane.Refer, Reasons: []string{lane.ReasonDocumentIntegrity, lane.ReasonFaceMismatch},
		Chip: &lane.ChipView{State: lane.ChipRead, Verdict: "failed", Reason: "DG1 does not match the signed hash", Access: "PACE",
			PassiveAuth: "invalid", PAStep: "data_group_hashes", FailedGroups: []int{1}, ActiveAuth: "ok", ChipAuth: "not_supported",
			Face: &lane.FaceMatchView{Compared: true, Distance: 0.41, Threshold: 0.29}}}
	m := gate.FromTransaction(lane.EventDecision, tx)
	b, _ := json.Marshal(m)
	var v any
	json.Unmarshal(b, &v)
	if err := schema.VisitJSON(v); err != nil {
		t.Fatalf("message %s: %v", b, err)
	}
	if m.Chip == nil || m.Chip.FailedStep != "data_group_hashes" || m.Face1to1 == nil || m.Face1to1.Match {
		t.Fatalf("%s", b)
	}
}
