package config

import (
	"fmt"
	"regexp"
)

// Channels configures the unit's signed data channels besides the
// watchlist (sync/channel): trust lists, shared alerts, pre-arrival
// alerts. Bundles are verified with the watchlist's root of trust and the
// unit's identity (watchlist.trust, watchlist.identity).
type Channels struct {
	// Path is the encrypted channel store (default <state_dir>/channels.db).
	Path string `yaml:"path"`
	// Key is its key-encryption key; empty uses watchlist.key (the data
	// key is separate and bound to this file).
	Key string `yaml:"key"`
	// MaxSize bounds a channel bundle file (default 256 MiB).
	MaxSize int64 `yaml:"max_bundle_bytes"`
	// Pull lists the channels pulled from the hub, each with its own index.
	Pull []ChannelPull `yaml:"pull"`
	// ExpireInterval is how often expired records are purged (default 1m).
	ExpireInterval Duration `yaml:"expire_interval"`
}

// ChannelPull is one channel the unit pulls, e.g. {kind: prearrival,
// channel: LHR} for the pre-arrival alerts of the port it serves.
type ChannelPull struct {
	Kind    string `yaml:"kind"`
	Channel string `yaml:"channel"`
	// PollInterval overrides hub.poll_interval for this channel (pre-arrival
	// alerts are worth polling every minute or two).
	PollInterval Duration `yaml:"poll_interval"`
}

var (
	channelKindRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	channelNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

// ChannelKey is the channel store's key provider spec.
func (c *Config) ChannelKey() string {
	if c.Channels.Key != "" {
		return c.Channels.Key
	}
	return c.Watchlist.Key
}

func (c *Config) validateChannels() []error {
	var errs []error
	seen := map[string]bool{}
	for i, p := range c.Channels.Pull {
		field := fmt.Sprintf("channels.pull[%d]", i)
		if !channelKindRE.MatchString(p.Kind) || p.Kind == "watchlist" {
			errs = append(errs, fmt.Errorf("%s.kind: %q is not a channel kind (trust, alerts, prearrival, …)", field, p.Kind))
		}
		if !channelNameRE.MatchString(p.Channel) {
			errs = append(errs, fmt.Errorf("%s.channel: %q is not a channel name", field, p.Channel))
		}
		if k := p.Kind + "/" + p.Channel; seen[k] {
			errs = append(errs, fmt.Errorf("%s: %s listed twice", field, k))
		} else {
			seen[k] = true
		}
		if p.PollInterval.D() < 0 {
			errs = append(errs, fmt.Errorf("%s.poll_interval: must not be negative", field))
		}
	}
	if len(c.Channels.Pull) > 0 && c.Hub.URL == "" {
		errs = append(errs, fmt.Errorf("channels.pull: needs hub.url"))
	}
	if c.Channels.MaxSize < 0 || c.Channels.ExpireInterval.D() < 0 {
		errs = append(errs, fmt.Errorf("channels: max_bundle_bytes and expire_interval must not be negative"))
	}
	return errs
}
