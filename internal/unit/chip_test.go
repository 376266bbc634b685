package unit_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"

	"github.com/checkpoint-edge/checkpoint/gate"
	"github.com/checkpoint-edge/checkpoint/internal/unit/unittest"
	"github.com/checkpoint-edge/checkpoint/lane"
)

// TestChipLane runs the whole lane with a passport chip on a real PC/SC
// reader (private pcscd + vpcd + the chip emulator): each outcome leaves
// a decision with its reason.
func TestChipLane(t *testing.T) {
	f := unittest.New(t, unittest.Options{})
	c := f.AddChip(t)
	u := running(t, f)
	waitFor(t, "chip reader", func() bool { return u.Health().ChipReader == "connected" })
	// The status screen names the reader and counts the anchors in force.
	if st := u.Status().Chip; st == nil || !st.Connected || st.Reader == "" || st.TrustCSCAs < 1 || st.TrustError != "" {
		t.Fatalf("status chip %+v", st)
	}

	t.Run("genuine chip", func(t *testing.T) {
		c.Insert(t, unittest.ChipDoc{MRZ: f.Clear, Face: []byte("\xff\xd8\xff\xe0 a photo")})
		tx := decided(t, u, f, f.Clear)
		if tx.Decision != lane.Clear || tx.Chip == nil || tx.Chip.Verdict != "genuine" || tx.Chip.Line != "chip genuine" {
			t.Fatalf("decision %s %v chip %+v", tx.Decision, tx.Reasons, tx.Chip)
		}
		if tx.Chip.ActiveAuth != "ok" || !tx.Chip.Consistent || tx.Chip.PassiveAuth != "valid" {
			t.Fatalf("chip %+v", tx.Chip)
		}
	})
	t.Run("DG1 altered after signing", func(t *testing.T) {
		c.Insert(t, unittest.ChipDoc{MRZ: f.Clear, AlterDG1: true})
		tx := decided(t, u, f, f.Clear)
		if tx.Decision != lane.Refer || !slices.Contains(tx.Reasons, lane.ReasonDocumentIntegrity) ||
			!slices.Contains(tx.Texts, "Document integrity: DG1 does not match the signed hash") {
			t.Fatalf("decision %s %v %q", tx.Decision, tx.Reasons, tx.Texts)
		}
	})
	t.Run("clone", func(t *testing.T) {
		c.Insert(t, unittest.ChipDoc{MRZ: f.Clear, Clone: true})
		tx := decided(t, u, f, f.Clear)
		if tx.Decision != lane.Refer || !slices.Contains(tx.Reasons, lane.ReasonDocumentIntegrity) || tx.Chip.ActiveAuth != "failed" {
			t.Fatalf("decision %s %v chip %+v", tx.Decision, tx.Reasons, tx.Chip)
		}
	})
	t.Run("another passport's chip", func(t *testing.T) {
		c.Insert(t, unittest.ChipDoc{MRZ: f.Stolen})
		tx := decided(t, u, f, f.Clear)
		if tx.Decision != lane.Refer || !slices.Contains(tx.Reasons, lane.ReasonChipUnreadable) ||
			!slices.Contains(tx.Texts, "Chip unreadable: chip refused access: MRZ does not open this chip") {
			t.Fatalf("decision %s %v %q", tx.Decision, tx.Reasons, tx.Texts)
		}
	})
	t.Run("no chip on a passport, over the gate API", func(t *testing.T) {
		c.Remove()
		gc := unixClient(f.Config.Gate.Socket)
		body, _ := json.Marshal(map[string][]string{"mrz": f.Clear})
		resp, err := gc.Post("http://unix/v1/documents", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m gate.Message
		json.Unmarshal(b, &m)
		if m.Decision != lane.Refer || m.Chip == nil || m.Chip.State != lane.ChipUnreadable || !slices.Contains(m.Reasons, lane.ReasonChipUnreadable) {
			t.Fatalf("gate message %s", b)
		}
		if bytes.Contains(b, []byte("SMITH")) {
			t.Fatal("personal data in the gate message")
		}
	})
}

// TestChipFace1to1 compares the live face (camera) with the chip photo.
func TestChipFace1to1(t *testing.T) {
	f := unittest.New(t, unittest.Options{Camera: true, Photo: "bona.jpg"})
	c := f.AddChip(t)
	u := streaming(t, f)
	waitFor(t, "chip reader", func() bool { return u.Health().ChipReader == "connected" })

	c.Insert(t, unittest.ChipDoc{MRZ: f.Clear, FacePhoto: "bona.jpg"})
	tx := decided(t, u, f, f.Clear)
	m := tx.Chip.Face
	if tx.Decision != lane.Clear || m == nil || !m.Compared || !m.Match || m.ChipQuality <= 0 || m.LiveQuality <= 0 {
		t.Fatalf("same person: %s %v 1:1 %+v", tx.Decision, tx.Reasons, m)
	}
	c.Insert(t, unittest.ChipDoc{MRZ: f.Clear, FacePhoto: "chaeyeon.jpg"})
	tx = decided(t, u, f, f.Clear)
	m = tx.Chip.Face
	if tx.Decision != lane.Refer || !slices.Contains(tx.Reasons, lane.ReasonFaceMismatch) || m == nil || m.Match || m.Distance <= m.Threshold {
		t.Fatalf("other person: %s %v 1:1 %+v", tx.Decision, tx.Reasons, m)
	}
	if len(tx.ChipJPEG) == 0 {
		t.Fatal("no chip photo for the page")
	}
	t.Logf("1:1 distance %.3f (threshold %.2f), live quality %.2f, chip quality %.2f", m.Distance, m.Threshold, m.LiveQuality, m.ChipQuality)
}

// TestChipTrustChannel: CSCA certificates reach the unit in a signed,
// encrypted "trust" channel bundle pulled from the hub; a chip that was
// "not verified" becomes genuine once the bundle is installed.
func TestChipTrustChannel(t *testing.T) {
	f := unittest.New(t, unittest.Options{Hub: true, Channels: []config.ChannelPull{
		{Kind: bundle.KindTrust, Channel: "icao", PollInterval: config.Duration(200 * time.Millisecond)}}})
	c := f.AddChip(t)
	os.Remove(f.Config.Chip.Trust) // no anchors from a file: only the channel
	u := running(t, f)
	waitFor(t, "chip reader", func() bool { return u.Health().ChipReader == "connected" })
	c.Insert(t, unittest.ChipDoc{MRZ: f.Clear})
	tx := decided(t, u, f, f.Clear)
	if tx.Decision != lane.Clear || tx.Chip.Verdict != "not_verified" || tx.Chip.PassiveAuth != "not_verifiable" {
		t.Fatalf("without anchors: %s %v %+v", tx.Decision, tx.Reasons, tx.Chip)
	}
	recs, err := pa.RecordsFromSet(pa.Set{CSCAs: c.State.CSCAsForTrust()})
	if err != nil {
		t.Fatal(err)
	}
	f.PublishChannel(t, bundle.KindTrust, "icao", 5, 24*time.Hour, recs)
	waitFor(t, "trust/icao installed", func() bool {
		st, _ := u.ChannelStates()
		return len(st) == 1 && st[0].Sequence == 5
	})
	tx = decided(t, u, f, f.Clear)
	if tx.Chip.Verdict != "genuine" || tx.Chip.PassiveAuth != "valid" {
		t.Fatalf("with the trust bundle: %+v", tx.Chip)
	}
}
