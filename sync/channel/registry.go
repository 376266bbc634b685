package channel

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/sync/bundle"
)

// Consumer is the code that uses one kind of channel: the chip's trust
// anchors, shared alerts, pre-arrival alerts.
type Consumer interface {
	// Validate checks the records of an authentic bundle for channel
	// before anything is stored: decode each record's Data, check it
	// makes sense. An error refuses the whole bundle (ErrRejected) and
	// nothing changes. It must not keep the records.
	Validate(channel string, recs []bundle.Record) error
	// Load hands the consumer the channel's current, unexpired records
	// (none once the channel expired), replacing what it held for that
	// channel: after each install, after Expire removed records, and at
	// start (LoadAll). It must not block.
	Load(st State, recs []bundle.Record)
}

// Registry maps kinds to their consumers. It is safe for concurrent use.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Consumer
	// OnInstall, if set, is called after every install through this
	// registry (the daemon audits it). Set it before use.
	OnInstall func(st State)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Consumer{}} }

// Register makes c the consumer of kind. A kind takes one consumer.
func (r *Registry) Register(kind string, c Consumer) error {
	if !bundle.ValidKind(kind) || c == nil {
		return fmt.Errorf("channel: cannot register kind %q", kind)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[kind]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicateKind, kind)
	}
	r.m[kind] = c
	return nil
}

// Consumer returns the consumer of kind.
func (r *Registry) Consumer(kind string) (Consumer, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.m[kind]
	return c, ok
}

// Kinds lists the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// load hands one channel's stored records to its consumer.
func (r *Registry) load(s *Store, st State, now time.Time) error {
	c, ok := r.Consumer(st.Kind)
	if !ok {
		return nil
	}
	recs, cur, err := s.Records(st.Kind, st.Channel, now)
	if err != nil {
		return err
	}
	c.Load(cur, recs)
	return nil
}

// LoadAll hands every registered consumer the stored records of each of
// its channels (at start). Channels of kinds without a consumer are left
// alone. The first integrity error is returned after every other channel
// was loaded.
func (r *Registry) LoadAll(s *Store, now time.Time) error {
	states, err := s.States()
	if err != nil {
		return err
	}
	var first error
	for _, st := range states {
		if err := r.load(s, st, now); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Expire purges expired records from the store and reloads the consumers
// of the channels that changed. The daemon calls it every minute or so.
func (r *Registry) Expire(s *Store, now time.Time) ([]Purged, error) {
	purged, err := s.Purge(now)
	if err != nil {
		return nil, err
	}
	var first error
	for _, p := range purged {
		if err := r.load(s, p.State, now); err != nil && first == nil {
			first = err
		}
	}
	return purged, first
}
