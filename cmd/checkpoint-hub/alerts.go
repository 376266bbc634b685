package main

import (
	"errors"
	"flag"
	"log/slog"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/alerts"
	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
)

// alertFlags configure confirmed-hit sharing (hub.AlertPublisher).
type alertFlags struct {
	policy, key, to, authority string
	interval, ttl              time.Duration
}

func (a *alertFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.policy, "share-policy", "", "serve: share officer-confirmed hits with the other posts by this policy (YAML, see hub/README.md)")
	fs.StringVar(&a.key, "share-key", "", "serve: Ed25519 key that signs the alert bundles (listed in the units' root of trust)")
	fs.StringVar(&a.to, "share-to", "", "serve: comma-separated age recipients (age1… or files) the alert bundles are encrypted to (the fleet key)")
	fs.StringVar(&a.authority, "share-authority", "HQ", "serve: authority named in the alert bundles")
	fs.DurationVar(&a.interval, "share-interval", 30*time.Second, "serve: recompute the shared alerts at least this often")
	fs.DurationVar(&a.ttl, "share-bundle-ttl", 6*time.Hour, "serve: lifetime of each alert bundle (republished at half)")
}

// check validates the flags' combination (before anything is opened).
func (a *alertFlags) check(c config) error {
	if a.policy == "" {
		if a.key != "" || a.to != "" {
			return cli.Exit(2, errors.New("--share-key and --share-to need --share-policy"))
		}
		return nil
	}
	if c.bundles == "" || a.key == "" || a.to == "" {
		return cli.Exit(2, errors.New("--share-policy needs --bundles (where the alert channel is published), --share-key and --share-to"))
	}
	return nil
}

// publisher builds the alert publisher, or nil when sharing is off.
func (a *alertFlags) publisher(c config, log *slog.Logger) (*hub.AlertPublisher, error) {
	if err := a.check(c); err != nil || a.policy == "" {
		return nil, err
	}
	p, err := alerts.LoadPolicy(a.policy)
	if err != nil {
		return nil, cli.Exit(2, err)
	}
	key, err := trust.ReadPrivateKey(a.key)
	if err != nil {
		return nil, cli.Exit(2, err)
	}
	rcpts, err := bundle.ParseRecipients(strings.Split(a.to, ","))
	if err != nil {
		return nil, cli.Exit(2, err)
	}
	return hub.NewAlertPublisher(hub.AlertOptions{Policy: p, Dir: c.bundles, Key: key, Recipients: rcpts,
		Authority: a.authority, Interval: a.interval, BundleTTL: a.ttl, Logger: log.With("component", "alerts")})
}
