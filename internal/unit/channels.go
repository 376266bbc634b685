package unit

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
	"github.com/checkpoint-edge/checkpoint/sync/pull"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
)

// channelHooks register the consumers of the unit's data channels (chip
// trust lists, shared alerts, pre-arrival alerts). Each subsystem appends
// its hook from an init function in its own file of this package; the
// hooks run in New, after the stores are open and before the lane is
// built, so a hook may also keep what it needs on u (e.g. a checker).
var channelHooks []func(u *Unit, reg *channel.Registry) error

// channels is the unit's channel store, its consumers and pullers, and
// the parts the consumers' hooks added (a loop to run, a store to close).
type channels struct {
	store   *channel.Store
	reg     *channel.Registry
	pullers []puller
	parts   []part
}

type part struct {
	run   func(ctx context.Context) error
	close func() error
}

// addPart lets a channel hook run a loop with the unit and close what it
// opened; either may be nil.
func (u *Unit) addPart(run func(ctx context.Context) error, close func() error) {
	u.ch.parts = append(u.ch.parts, part{run: run, close: close})
}

// openChannels opens the channel store, registers every consumer and
// hands them what is stored.
func (u *Unit) openChannels(logger *slog.Logger) error {
	cfg := u.cfg
	kp, err := seal.ParseProvider(cfg.ChannelKey())
	if err != nil {
		return fmt.Errorf("channel store key: %w", err)
	}
	st, err := channel.Open(cfg.Channels.Path, kp, channel.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("channel store %s: %w", cfg.Channels.Path, err)
	}
	u.ch.store, u.ch.reg = st, channel.NewRegistry()
	for _, hook := range channelHooks {
		if err := hook(u, u.ch.reg); err != nil {
			return err
		}
	}
	u.ch.reg.OnInstall = func(s channel.State) {
		u.audit.Append(audit.KindWatchlistChange, "system", "channel_installed", map[string]string{
			"kind": s.Kind, "channel": s.Channel, "sequence": fmt.Sprint(s.Sequence), "records": fmt.Sprint(s.Records),
			"expires_at": s.ExpiresAt.Format(time.RFC3339), "key_id": s.KeyID, "authority": s.Authority})
	}
	if err := u.ch.reg.LoadAll(st, u.now()); err != nil {
		// A tampered channel is an alarm, not a reason to stop the lane.
		u.alarms.Store("channels", "Channel store integrity error: "+err.Error())
		u.recordError("channels", err)
	}
	return nil
}

// newChannelPullers makes one puller per configured channel, each with its
// own index, download folder and poll interval.
func (u *Unit) newChannelPullers(tlsCfg *tls.Config, logger *slog.Logger) error {
	cfg := u.cfg
	if len(cfg.Channels.Pull) == 0 {
		return nil
	}
	root, err := trust.Load(cfg.Watchlist.Trust)
	if err != nil {
		return fmt.Errorf("trust root: %w", err)
	}
	ids, err := bundle.LoadIdentities(cfg.Watchlist.Identity)
	if err != nil {
		return fmt.Errorf("unit identity: %w", err)
	}
	maxSize := cfg.Channels.MaxSize
	if maxSize == 0 {
		maxSize = 256 << 20
	}
	for _, c := range cfg.Channels.Pull {
		interval := c.PollInterval.D()
		if interval == 0 {
			interval = cfg.Hub.PollInterval.D()
		}
		log := logger.With("channel", c.Kind+"/"+c.Channel)
		p, err := pull.New(pull.Config{
			BaseURL:   strings.TrimRight(cfg.Hub.URL, "/") + "/v1/bundles/",
			TLS:       tlsCfg,
			Dir:       filepath.Join(cfg.StateDir, "downloads", "channels", c.Kind+"-"+c.Channel),
			RateLimit: cfg.Hub.MaxBandwidth,
			Interval:  interval,
			Logger:    log,
			Target: &channel.Target{Store: u.ch.store, Registry: u.ch.reg, Kind: c.Kind, Channel: c.Channel,
				Bundle: bundle.Options{Trust: root, Identities: ids, MaxBundleSize: maxSize, Logger: log}},
		})
		if err != nil {
			return fmt.Errorf("channel %s/%s: %w", c.Kind, c.Channel, err)
		}
		u.ch.pullers = append(u.ch.pullers, p)
	}
	return nil
}

// runChannels starts the pullers and the expiry loop.
func (u *Unit) runChannels(ctx context.Context, g *errgroup.Group) {
	for _, p := range u.ch.pullers {
		g.Go(func() error { return ignoreCanceled(p.Run(ctx)) })
	}
	if u.ch.store != nil {
		g.Go(func() error { u.expireChannels(ctx); return nil })
	}
	for _, p := range u.ch.parts {
		if p.run != nil {
			g.Go(func() error { return ignoreCanceled(p.run(ctx)) })
		}
	}
}

// expireChannels purges expired records (pre-arrival alerts past their
// flight, shared alerts past their validity) and audits each deletion.
func (u *Unit) expireChannels(ctx context.Context) {
	every := u.cfg.Channels.ExpireInterval.D()
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		purged, err := u.ch.reg.Expire(u.ch.store, u.now())
		if err != nil {
			u.recordError("channels", err)
		}
		for _, p := range purged {
			u.audit.Append(audit.KindWatchlistChange, "system", "channel_records_expired", map[string]string{
				"kind": p.State.Kind, "channel": p.State.Channel, "sequence": fmt.Sprint(p.State.Sequence),
				"removed": fmt.Sprint(p.Removed), "channel_expired": fmt.Sprint(p.Expired)})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ChannelStates lists the installed channels (status, tests).
func (u *Unit) ChannelStates() ([]channel.State, error) {
	if u.ch.store == nil {
		return nil, nil
	}
	return u.ch.store.States()
}

// closeChannels closes the pullers and the store.
func (u *Unit) closeChannels(closeIt func(string, interface{ Close() error })) {
	for _, p := range u.ch.pullers {
		closeIt("channel sync", p)
	}
	for _, p := range u.ch.parts {
		if p.close != nil {
			closeIt("channel consumer", closerFunc(p.close))
		}
	}
	if u.ch.store != nil {
		closeIt("channel store", u.ch.store)
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// ChannelStatus is an installed or pulled channel on the status screen: no
// record content.
type ChannelStatus struct {
	channel.State
	Expired       bool      `json:"expired"`
	LastSync      time.Time `json:"last_sync,omitzero"`
	LastSyncError string    `json:"last_sync_error,omitempty"`
}

func (u *Unit) channelStatus() []ChannelStatus {
	states, err := u.ChannelStates()
	if err != nil {
		return []ChannelStatus{{LastSyncError: err.Error()}}
	}
	now := u.now()
	var out []ChannelStatus
	byPath := map[string]int{}
	for _, st := range states {
		byPath[bundle.ChannelPath(st.Kind, st.Channel)] = len(out)
		out = append(out, ChannelStatus{State: st, Expired: st.Sequence > 0 && st.Expired(now)})
	}
	for i, c := range u.cfg.Channels.Pull {
		if i >= len(u.ch.pullers) {
			break
		}
		l := u.ch.pullers[i].Link()
		k := bundle.ChannelPath(c.Kind, c.Channel)
		j, ok := byPath[k]
		if !ok {
			j = len(out)
			out = append(out, ChannelStatus{State: channel.State{Kind: c.Kind, Channel: c.Channel}})
		}
		out[j].LastSync, out[j].LastSyncError = l.LastSuccess, l.LastError
	}
	return out
}
