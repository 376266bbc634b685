package channel

import (
	"context"
	"fmt"
	"time"

	"github.com/checkpoint-edge/checkpoint/sync/bundle"
)

// Ref names one channel.
type Ref struct {
	Kind    string `json:"kind"`
	Channel string `json:"channel"`
}

func (r Ref) String() string { return bundle.ChannelPath(r.Kind, r.Channel) }

// Install verifies the channel bundle at path and, if every check passes,
// replaces the channel's records in the store and reloads its consumer.
// want, if not nil, is the channel the caller asked for (a pull); nil
// accepts any kind the registry has a consumer for (a sideload). Refusals
// are bundle sentinels (ErrWrongKind, ErrChannelMismatch, ErrRollback,
// ErrRejected, and those of bundle.ReadChannel); nothing changes then.
func Install(ctx context.Context, path string, s *Store, reg *Registry, want *Ref, opts bundle.Options) (*bundle.Verified, error) {
	log := opts.Logger
	v, recs, err := bundle.ReadChannel(ctx, path, opts)
	if err != nil {
		if log != nil {
			log.Warn("channel bundle refused", "want", refString(want), "err", err)
		}
		return nil, err
	}
	h := v.Header
	st := State{Kind: h.Kind, Channel: h.Channel, Sequence: h.Sequence, IssuedAt: h.IssuedAt, ExpiresAt: h.ExpiresAt,
		Authority: h.Authority, KeyID: h.KeyID}
	if err := admit(s, reg, want, st, recs); err != nil {
		if log != nil {
			log.Warn("channel bundle refused", "kind", h.Kind, "channel", h.Channel, "sequence", h.Sequence, "err", err)
		}
		return nil, err
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	st.InstalledAt = now.UTC()
	if err := s.Replace(ctx, st, recs); err != nil {
		return nil, err
	}
	cur, _, err := s.State(st.Kind, st.Channel)
	if err != nil {
		return nil, err
	}
	// The consumer gets what was just stored, without reading it back.
	live := recs[:0:0]
	if !cur.Expired(now) {
		for _, r := range recs {
			if !r.Expired(now) {
				live = append(live, r)
			}
		}
	}
	if c, ok := reg.Consumer(st.Kind); ok {
		c.Load(cur, live)
	}
	if reg.OnInstall != nil {
		reg.OnInstall(cur)
	}
	if log != nil {
		log.Info("channel bundle installed", "kind", h.Kind, "channel", h.Channel, "sequence", h.Sequence,
			"records", len(recs), "expires_at", h.ExpiresAt)
	}
	return v, nil
}

// admit applies the unit's policy to an authentic bundle.
func admit(s *Store, reg *Registry, want *Ref, st State, recs []bundle.Record) error {
	if want != nil && want.Kind != st.Kind {
		return fmt.Errorf("%w: a %q bundle where %q was asked for", bundle.ErrWrongKind, st.Kind, want.Kind)
	}
	if want != nil && want.Channel != st.Channel {
		return fmt.Errorf("%w: bundle for %s, want %s", bundle.ErrChannelMismatch, st.key(), want)
	}
	c, ok := reg.Consumer(st.Kind)
	if !ok {
		return fmt.Errorf("%w: no consumer for %q bundles on this unit (it takes %v)", bundle.ErrWrongKind, st.Kind, reg.Kinds())
	}
	old, ok, err := s.State(st.Kind, st.Channel)
	if err != nil {
		return err
	}
	if ok && st.Sequence <= old.Sequence {
		return fmt.Errorf("%w: %s sequence %d, installed %d", bundle.ErrRollback, st.key(), st.Sequence, old.Sequence)
	}
	if err := c.Validate(st.Channel, recs); err != nil {
		return fmt.Errorf("%w: %s: %w", bundle.ErrRejected, st.key(), err)
	}
	return nil
}

func refString(r *Ref) string {
	if r == nil {
		return "any"
	}
	return r.String()
}

// Target pulls one channel from the hub: a sync/pull Target.
type Target struct {
	Store    *Store
	Registry *Registry
	Kind     string
	Channel  string
	// Bundle verifies (trust root, identities, limits, clock, logger).
	Bundle bundle.Options
}

// Path implements pull.Target.
func (t *Target) Path() string { return bundle.ChannelPath(t.Kind, t.Channel) }

// Installed implements pull.Target.
func (t *Target) Installed() uint64 {
	st, ok, err := t.Store.State(t.Kind, t.Channel)
	if err != nil || !ok {
		return 0
	}
	return st.Sequence
}

// CheckIndex implements pull.Target.
func (t *Target) CheckIndex(ix *bundle.Index) error {
	if !ix.IsFor(t.Kind, t.Channel) {
		return fmt.Errorf("%w: index of %q served for %s", bundle.ErrChannelMismatch, ix.Kind+"/"+ix.Channel+ix.WatchlistID, t.Path())
	}
	return nil
}

// Install implements pull.Target.
func (t *Target) Install(ctx context.Context, path string) (*bundle.Verified, error) {
	return Install(ctx, path, t.Store, t.Registry, &Ref{Kind: t.Kind, Channel: t.Channel}, t.Bundle)
}
