package unit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
)

type noHits struct{}

func (noHits) Check(context.Context, *mrz.Document, *lane.FaceCapture) (lane.CheckResult, error) {
	return lane.CheckResult{Sequence: 3}, nil
}

// A possible match screened at HQ makes the lane REFER, a hit HIT; an
// expired flight is not matched.
func TestPrearrivalLevels(t *testing.T) {
	now := time.Date(2026, 11, 25, 13, 0, 0, 0, time.Local)
	u := &Unit{now: func() time.Time { return now }}
	u.pax.arrivals = paxdata.NewArrivals(u.now)
	mk := func(flight, level, number string, arrival time.Time) bundle.Record {
		f := &paxdata.FlightAlerts{Flight: flight, Arrival: "LHR", ArrivalAt: arrival, ScreenedAt: now.Add(-2 * time.Hour), ScreenedBy: "HQ",
			Message: "PNRGOV", Counts: paxdata.Counts{Passengers: 1, Screened: 1}, Alerts: []paxdata.Alert{{Level: level,
				Traveller: paxdata.Traveller{Surname: "DOE", GivenNames: "JANE", BirthDate: "1980-03-12", DocumentNumber: number, IssuingState: "UTO"},
				Matches:   []paxdata.Match{{Kind: "person", RefID: "P9", Level: level, Action: "refer", Score: 0.7, Explanation: "name similar"}}}}}
		if level == paxdata.LevelHit {
			f.Counts.Hits = 1
		} else {
			f.Counts.Possible = 1
		}
		r, err := f.Record(arrival.Add(6 * time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	u.pax.arrivals.Load(channel.State{Kind: bundle.KindPrearrival, Channel: "LHR"}, []bundle.Record{
		mk("XX0001", paxdata.LevelPossible, "AB1111111", now.Add(time.Hour)),
		mk("XX0002", paxdata.LevelHit, "AB2222222", now.Add(time.Hour)),
		mk("XX0003", paxdata.LevelHit, "AB3333333", now.Add(-7*time.Hour)), // landed long ago: expired
	})
	c := u.wrapChecker(noHits{})
	decide := func(number string) (lane.Decision, []lane.HitView) {
		res, err := c.Check(context.Background(), &mrz.Document{IssuingState: "UTO", DocumentNumber: number, Surname: "SOMEONE",
			BirthDate: mrz.Date{Year: 1990, Month: 1, Day: 1}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var f lane.Findings
		f.DocumentValid = true
		for _, h := range res.Hits {
			if h.IsPossible() {
				f.Possible++
			} else {
				f.Hits++
			}
		}
		d, _ := lane.Decide(lane.Policy{}, f)
		return d, res.Hits
	}
	d, hits := decide("AB1111111")
	if d != lane.Refer || len(hits) != 1 || hits[0].Kind != lane.HitKindPrearrival || hits[0].Level != lane.LevelPossible ||
		hits[0].Prearrival.Message != "PNRGOV" || !strings.Contains(hits[0].Explanation, "screened at HQ at 11:00") {
		t.Fatalf("possible: %s %+v", d, hits)
	}
	if d, _ := decide("AB2222222"); d != lane.Hit {
		t.Fatalf("hit: %s", d)
	}
	if d, hits := decide("AB3333333"); d != lane.Clear || len(hits) != 0 {
		t.Fatalf("expired flight: %s %+v", d, hits)
	}
	// Another day's screening shows its date.
	pv := &lane.PrearrivalView{Flight: "XX0001", ScreenedBy: "HQ", ScreenedAt: now.Add(-26 * time.Hour)}
	if h := pv.Headline(now); !strings.Contains(h, "screened at HQ at 24 Nov 11:00") {
		t.Fatalf("headline %q", h)
	}
}
