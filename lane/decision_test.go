package lane

import (
	"slices"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	desk := Policy{ReferWithoutFace: true, ReferInvalidMRZ: true}
	gate := Policy{ReferWithoutFace: true, ReferInvalidMRZ: true, ReferWhenStale: true}
	ok := Findings{DocumentValid: true, FaceWanted: true, FaceCaptured: true}
	with := func(f func(*Findings)) Findings { c := ok; f(&c); return c }
	cases := []struct {
		name    string
		p       Policy
		f       Findings
		want    Decision
		reasons []string
	}{
		{"clean", desk, ok, Clear, nil},
		{"hit", desk, with(func(f *Findings) { f.Hits = 1 }), Hit, nil},
		{"hit beats no face", desk, with(func(f *Findings) { f.Hits = 2; f.FaceCaptured = false }), Hit, []string{ReasonNoFace}},
		{"no face", desk, with(func(f *Findings) { f.FaceCaptured = false }), Refer, []string{ReasonNoFace}},
		{"poor face", desk, with(func(f *Findings) { f.FaceCaptured = false; f.FacePoor = true }), Refer, []string{ReasonPoorQuality}},
		{"camera down", desk, with(func(f *Findings) { f.FaceCaptured = false; f.CameraDown = true }), Refer, []string{ReasonCameraDown}},
		{"camera down, policy allows document only", Policy{}, with(func(f *Findings) { f.FaceCaptured = false; f.CameraDown = true }), Clear, nil},
		{"no camera in lane", desk, with(func(f *Findings) { f.FaceWanted = false; f.FaceCaptured = false }), Clear, nil},
		{"stale desk", desk, with(func(f *Findings) { f.Stale = true }), Clear, []string{ReasonStale}},
		{"stale gate", gate, with(func(f *Findings) { f.Stale = true }), Refer, []string{ReasonStale}},
		{"stale hit desk", desk, with(func(f *Findings) { f.Stale = true; f.Hits = 1 }), Hit, []string{ReasonStale}},
		{"integrity", desk, with(func(f *Findings) { f.IntegrityErrors = 1 }), Refer, []string{ReasonIntegrity}},
		{"invalid mrz", desk, with(func(f *Findings) { f.DocumentValid = false }), Refer, []string{ReasonInvalidMRZ}},
		{"expired doc", desk, with(func(f *Findings) { f.DocumentExpired = true }), Refer, []string{ReasonExpiredDocument}},
		{"mismatch", desk, with(func(f *Findings) { f.FaceMismatch = true }), Refer, []string{ReasonFaceMismatch}},
		{"no watchlist", desk, with(func(f *Findings) { f.NoWatchlist = true }), Refer, []string{ReasonNoWatchlist}},
		{"check failed", desk, with(func(f *Findings) { f.CheckErr = true }), Refer, []string{ReasonCheckFailed}},
		{"possible match refers", desk, with(func(f *Findings) { f.Possible = 1 }), Refer, []string{ReasonPossibleMatch}},
		{"possible match refers at the gate", gate, with(func(f *Findings) { f.Possible = 2 }), Refer, []string{ReasonPossibleMatch}},
		{"hit beats possible", desk, with(func(f *Findings) { f.Hits = 1; f.Possible = 1 }), Hit, []string{ReasonPossibleMatch}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, r := Decide(tc.p, tc.f)
			if d != tc.want || !slices.Equal(r, tc.reasons) {
				t.Fatalf("Decide = %s %v, want %s %v", d, r, tc.want, tc.reasons)
			}
			for _, code := range r {
				if ReasonText(code) == code {
					t.Errorf("reason %q has no text", code)
				}
			}
		})
	}
}

func TestExpired(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	if !expired(2026, 11, 23, now) || expired(2026, 11, 24, now) || expired(0, 0, 0, now) {
		t.Fatal("expiry arithmetic")
	}
}

func TestReasonCodesHaveText(t *testing.T) {
	for _, code := range ReasonCodes {
		if ReasonText(code) == code {
			t.Errorf("reason %q has no text", code)
		}
	}
}
