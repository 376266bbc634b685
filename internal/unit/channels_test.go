package unit_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/unit/unittest"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
)

// flightRecord is a prearrival record: one flight to LHR with one alert,
// expiring at expires.
func flightRecord(t *testing.T, flight string, arrival, expires time.Time) bundle.Record {
	t.Helper()
	f := &paxdata.FlightAlerts{Flight: flight, Departure: "JFK", Arrival: "LHR", ArrivalAt: arrival, ScreenedAt: time.Now(),
		ScreenedBy: "HQ", Message: "PAXLST", Counts: paxdata.Counts{Passengers: 10, Screened: 10, Hits: 1},
		Alerts: []paxdata.Alert{{Level: paxdata.LevelHit, Traveller: paxdata.Traveller{Role: paxdata.RolePassenger,
			Surname: "DOE", GivenNames: "JANE", BirthDate: "1980-03-12", DocumentNumber: "X1234567", IssuingState: "UTO"},
			Matches: []paxdata.Match{{Kind: "document", RefID: "D1", Action: "refer", Level: "hit", Score: 1, Explanation: "stolen"}}}}}
	r, err := f.Record(expires)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The unit pulls the data channels its config names, each from its own
// index, installs them into its channel store, hands them to their
// consumer, audits the install, and drops records at their expiry.
func TestPullsChannelsFromHub(t *testing.T) {
	f := unittest.New(t, unittest.Options{Hub: true, Channels: []config.ChannelPull{
		{Kind: bundle.KindPrearrival, Channel: "LHR", PollInterval: config.Duration(200 * time.Millisecond)}}})
	f.Config.Channels.ExpireInterval = config.Duration(100 * time.Millisecond)
	now := time.Now()
	f.PublishChannel(t, bundle.KindPrearrival, "LHR", 10, 6*time.Hour, []bundle.Record{
		flightRecord(t, "BA0123", now.Add(2*time.Hour), now.Add(6*time.Hour)),
		flightRecord(t, "AA0100", now.Add(time.Hour), now.Add(3*time.Second)), // leaves soon
	})
	// Another port's channel is published beside it and never pulled.
	f.PublishChannel(t, bundle.KindPrearrival, "CDG", 99, 6*time.Hour, nil)
	u := running(t, f)
	waitFor(t, "prearrival/LHR installed", func() bool {
		st, _ := u.ChannelStates()
		return len(st) == 1 && st[0].Sequence == 10
	})
	// AA0100's record expires a few seconds after publication (or before
	// the install, on a busy machine): it is dropped, the deletion
	// audited, and BA0123 stays.
	flights := func() string {
		var out []string
		for _, e := range u.ExpectedArrivals(now, 0) {
			out = append(out, e.Flight)
		}
		return strings.Join(out, ",")
	}
	waitFor(t, "expired flight dropped", func() bool { return flights() == "BA0123" })
	if exp := u.ExpectedArrivals(now, 0); len(exp[0].Flagged) != 1 || exp[0].Counts.Hits != 1 {
		t.Fatalf("expected arrivals %+v", exp)
	}
	waitFor(t, "expiry audited", func() bool {
		b, _ := os.ReadFile(f.Config.Audit.Path)
		return strings.Contains(string(b), `"action":"channel_records_expired"`)
	})
	// A newer bundle is pulled at the next poll.
	f.PublishChannel(t, bundle.KindPrearrival, "LHR", 11, 6*time.Hour, []bundle.Record{
		flightRecord(t, "BA0123", now.Add(2*time.Hour), now.Add(6*time.Hour)),
		flightRecord(t, "UA0900", now.Add(4*time.Hour), now.Add(8*time.Hour)),
	})
	waitFor(t, "sequence 11", func() bool { return flights() == "BA0123,UA0900" })
	b, _ := os.ReadFile(f.Config.Audit.Path)
	if strings.Count(string(b), `"action":"channel_installed"`) != 2 || strings.Contains(string(b), "X1234567") ||
		strings.Contains(string(b), "DOE") {
		t.Fatalf("audit log:\n%s", b)
	}
	if _, err := audit.Verify(f.Config.Audit.Path); err != nil {
		t.Fatal(err)
	}
	st, _ := u.ChannelStates()
	if st[0].Sequence != 11 || st[0].Records != 2 {
		t.Fatalf("state %+v", st[0])
	}
	if cs := u.Status().Channels; len(cs) != 1 || cs[0].Sequence != 11 || cs[0].LastSync.IsZero() || cs[0].Expired {
		t.Fatalf("status channels %+v", cs)
	}
}
