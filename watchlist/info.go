package watchlist

import "time"

// Info is what a technician asks of an installed watchlist (`checkpointctl
// watchlist info`, and the daemon's admin socket while it holds the
// store): the version, its age, counts, integrity and the thresholds in
// force. It holds no personal data.
type Info struct {
	Store           string  `json:"store"`
	Meta            Meta    `json:"meta"`
	AgeSeconds      float64 `json:"age_seconds"`
	Stale           bool    `json:"stale"`
	Stats           Stats   `json:"stats"`
	IntegrityErrors int64   `json:"integrity_errors"`
	FaceIndexLocked bool    `json:"face_index_locked"`
	// Thresholds are the person-matching levels this store screens with.
	Thresholds Thresholds `json:"thresholds"`
	// Provenance is "signed" or "unsigned local import"; SignedSequence
	// is what the next signed bundle must exceed.
	Provenance     string `json:"provenance,omitempty"`
	SignedSequence uint64 `json:"signed_sequence"`
}

// Info reports the installed version at now; maxAge is the STALE limit
// (0: only past its expiry).
func (s *Store) Info(now time.Time, maxAge time.Duration) (Info, error) {
	m := s.Meta()
	st, err := s.Stats()
	if err != nil {
		return Info{}, err
	}
	in := Info{Store: s.Path(), Meta: m, AgeSeconds: m.Age(now).Seconds(), Stale: m.Stale(now, maxAge),
		Stats: st, IntegrityErrors: s.IntegrityErrors(), FaceIndexLocked: s.FaceIndexLocked(),
		Thresholds: EffectiveThresholds(s.opts.MatchConfig),
		Provenance: "signed", SignedSequence: s.SignedMeta().Sequence}
	if m.IsUnsigned() {
		in.Provenance = "unsigned local import"
	}
	return in, nil
}
