package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
)

// Kind is the bundle channel kind alerts travel on.
const Kind = bundle.KindAlerts

// Alert is one shared, officer-confirmed hit.
type Alert struct {
	// ID is "<post>:<transaction id>": one alert per confirmed transaction.
	ID string `json:"id"`
	// Entries are the watchlist entries hit, "kind:ref_id".
	Entries  []string `json:"entries"`
	Category string   `json:"category"`
	// Action is what other posts should do (the policy's, e.g.
	// discreet_check), not necessarily the action at the first post.
	Action string `json:"action"`
	// Post is the unit where the traveller was seen, Site its site name
	// when known.
	Post        string    `json:"post"`
	Site        string    `json:"site,omitempty"`
	SeenAt      time.Time `json:"seen_at"`
	ConfirmedAt time.Time `json:"confirmed_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	// Note is the policy's text for the category, if any.
	Note string `json:"note,omitempty"`
}

// Validate checks an alert received on the channel.
func (a *Alert) Validate() error {
	switch {
	case a.ID == "" || len(a.ID) > 256:
		return fmt.Errorf("%w: alert id", ErrInvalid)
	case len(a.Entries) == 0 || len(a.Entries) > 64:
		return fmt.Errorf("%w: alert %s: %d entries", ErrInvalid, a.ID, len(a.Entries))
	case a.Post == "" || a.SeenAt.IsZero() || a.ExpiresAt.IsZero():
		return fmt.Errorf("%w: alert %s: post, seen_at and expires_at are required", ErrInvalid, a.ID)
	case !a.ExpiresAt.After(a.SeenAt):
		return fmt.Errorf("%w: alert %s expires before it was seen", ErrInvalid, a.ID)
	}
	for _, e := range a.Entries {
		if k, r, ok := strings.Cut(e, ":"); !ok || k == "" || r == "" || len(e) > 200 {
			return fmt.Errorf("%w: alert %s: entry %q (want kind:ref_id)", ErrInvalid, a.ID, e)
		}
	}
	return nil
}

// Summary is the line a lane shows next to the hit, e.g. "shared alert:
// seen at post desk-07 (Dover) at 14:05 UTC on 3 May · discreet check".
func (a *Alert) Summary() string {
	where := a.Post
	if a.Site != "" {
		where += " (" + a.Site + ")"
	}
	s := fmt.Sprintf("shared alert: seen at post %s at %s", where, a.SeenAt.UTC().Format("15:04 MST on 2 Jan"))
	if a.Action != "" {
		s += " · " + strings.ReplaceAll(a.Action, "_", " ")
	}
	if a.Note != "" {
		s += " · " + a.Note
	}
	return s
}

// Rule is the policy for one category.
type Rule struct {
	// Action for the other posts (default: the category's own).
	Action string `yaml:"action"`
	// TTL is how long the alert lives after the hit was seen.
	TTL  time.Duration `yaml:"ttl"`
	Note string        `yaml:"note"`
}

// Policy says which confirmed hits are shared, and how.
type Policy struct {
	// Channel is the alerts channel name (default "national").
	Channel string `yaml:"channel"`
	// TTL is the default lifetime of an alert (default 24h).
	TTL time.Duration `yaml:"ttl"`
	// Categories shared; a category not listed is not shared.
	Categories map[string]Rule `yaml:"categories"`
}

// LoadPolicy reads a YAML policy, e.g.
//
//	channel: national
//	ttl: 24h
//	categories:
//	  foreign_terrorist_fighter: {action: discreet_check, ttl: 72h}
//	  wanted: {action: arrest}
func LoadPolicy(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("alerts: policy: %w", err)
	}
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("alerts: policy %s: %w", path, err)
	}
	if err := p.normalize(); err != nil {
		return nil, fmt.Errorf("alerts: policy %s: %w", path, err)
	}
	return &p, nil
}

func (p *Policy) normalize() error {
	if p.Channel == "" {
		p.Channel = "national"
	}
	if !bundle.ValidChannel(p.Channel) {
		return fmt.Errorf("%w: channel %q", ErrInvalid, p.Channel)
	}
	if p.TTL == 0 {
		p.TTL = 24 * time.Hour
	}
	if p.TTL < 0 || len(p.Categories) == 0 {
		return fmt.Errorf("%w: a positive ttl and at least one category are required", ErrInvalid)
	}
	for c, r := range p.Categories {
		if r.TTL < 0 || r.TTL > 30*24*time.Hour {
			return fmt.Errorf("%w: category %s: ttl %v", ErrInvalid, c, r.TTL)
		}
	}
	return nil
}

// MaxTTL is the longest lifetime any category gets.
func (p *Policy) MaxTTL() time.Duration {
	m := p.TTL
	for _, r := range p.Categories {
		m = max(m, r.TTL)
	}
	return m
}

// Hit is what headquarters knows of a confirmed transaction: its result's
// metadata and the officer's confirmation.
type Hit struct {
	Post        string
	TxID        string
	Categories  []string
	Entries     []string
	SeenAt      time.Time
	ConfirmedAt time.Time
}

// FromConfirmed returns the alert the policy makes of a confirmed hit, or
// false when none of its categories is shared.
func (p *Policy) FromConfirmed(h Hit) (Alert, bool) {
	for _, c := range h.Categories {
		r, ok := p.Categories[c]
		if !ok || len(h.Entries) == 0 {
			continue
		}
		ttl := r.TTL
		if ttl == 0 {
			ttl = p.TTL
		}
		a := Alert{ID: h.Post + ":" + h.TxID, Entries: slices.Clone(h.Entries), Category: c, Action: r.Action, Post: h.Post,
			SeenAt: h.SeenAt.UTC(), ConfirmedAt: h.ConfirmedAt.UTC(), ExpiresAt: h.SeenAt.Add(ttl).UTC(), Note: r.Note}
		return a, true
	}
	return Alert{}, false
}

// Book holds the alerts of the channels a unit pulls, by watchlist entry.
// It is the sync/channel consumer of kind "alerts".
type Book struct {
	mu  sync.RWMutex
	by  map[string]map[string][]Alert // channel -> entry -> alerts
	now func() time.Time
}

var _ channel.Consumer = (*Book)(nil)

// NewBook returns an empty book; now defaults to time.Now.
func NewBook(now func() time.Time) *Book {
	if now == nil {
		now = time.Now
	}
	return &Book{by: map[string]map[string][]Alert{}, now: now}
}

func decode(r bundle.Record) (Alert, error) {
	var a Alert
	dec := json.NewDecoder(bytes.NewReader(r.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return a, fmt.Errorf("%w: record %s: %v", ErrInvalid, r.ID, err)
	}
	if err := a.Validate(); err != nil {
		return a, err
	}
	if a.ID != r.ID {
		return a, fmt.Errorf("%w: record %s holds alert %s", ErrInvalid, r.ID, a.ID)
	}
	return a, nil
}

// Validate implements channel.Consumer.
func (b *Book) Validate(_ string, recs []bundle.Record) error {
	for _, r := range recs {
		if _, err := decode(r); err != nil {
			return err
		}
	}
	return nil
}

// Load implements channel.Consumer.
func (b *Book) Load(st channel.State, recs []bundle.Record) {
	m := map[string][]Alert{}
	for _, r := range recs {
		a, err := decode(r)
		if err != nil {
			continue // validated at install; a record cannot change since
		}
		for _, e := range a.Entries {
			m[e] = append(m[e], a)
		}
	}
	b.mu.Lock()
	b.by[st.Channel] = m
	b.mu.Unlock()
}

// Lookup returns the unexpired alerts on a watchlist entry ("kind:ref_id"),
// most recently seen first.
func (b *Book) Lookup(entry string) []Alert {
	now := b.now()
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []Alert
	for _, m := range b.by {
		for _, a := range m[entry] {
			if now.Before(a.ExpiresAt) {
				out = append(out, a)
			}
		}
	}
	slices.SortFunc(out, func(x, y Alert) int { return y.SeenAt.Compare(x.SeenAt) })
	return out
}
