package pull

import (
	"context"
	"fmt"

	"github.com/checkpoint-edge/checkpoint/sync/bundle"
)

// Target is what a Puller keeps current: by default the watchlist store
// (Config.Store under Config.WatchlistID), or a channel.
type Target interface {
	// Path is the target's folder under the base URL, without slashes at
	// the ends: "national", "prearrival/LHR".
	Path() string
	// Installed is the installed sequence (0 = none).
	Installed() uint64
	// CheckIndex refuses an index that is not the target's.
	CheckIndex(ix *bundle.Index) error
	// Install verifies a downloaded bundle file and installs it.
	Install(ctx context.Context, path string) (*bundle.Verified, error)
}

// watchlistTarget is the watchlist store of Config.
type watchlistTarget struct{ cfg *Config }

func (w watchlistTarget) Path() string { return w.cfg.WatchlistID }

// Installed is the signed sequence (bundle.SignedBase): an unsigned local
// import in place neither holds signed bundles back nor takes a delta.
func (w watchlistTarget) Installed() uint64 { return bundle.SignedBase(w.cfg.Store).Sequence }

// needsFull: a local import is replaced by the next full bundle.
func (w watchlistTarget) needsFull() bool { return bundle.SignedBase(w.cfg.Store).Unsigned }
func (w watchlistTarget) CheckIndex(ix *bundle.Index) error {
	if !ix.IsFor(bundle.KindWatchlist, w.cfg.WatchlistID) {
		return fmt.Errorf("%w: index for %q, want %q", ErrIndex, ix.WatchlistID, w.cfg.WatchlistID)
	}
	return nil
}
func (w watchlistTarget) Install(ctx context.Context, path string) (*bundle.Verified, error) {
	return bundle.Install(ctx, path, w.cfg.Store, w.cfg.Bundle)
}
