package unit

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/pull"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// puller keeps the watchlist up to date from the hub.
type puller interface {
	Run(ctx context.Context) error
	Link() pull.Link
	Close() error
}

func newPuller(cfg *config.Config, tlsCfg *tls.Config, store *watchlist.Store, logger *slog.Logger) (puller, error) {
	root, err := trust.Load(cfg.Watchlist.Trust)
	if err != nil {
		return nil, fmt.Errorf("trust root: %w", err)
	}
	ids, err := bundle.LoadIdentities(cfg.Watchlist.Identity)
	if err != nil {
		return nil, fmt.Errorf("unit identity: %w", err)
	}
	bases := bundleBases(cfg)
	return pull.New(pull.Config{
		BaseURL:     bases[0],
		BaseURLs:    bases[1:],
		WatchlistID: cfg.Watchlist.ID,
		TLS:         tlsCfg,
		Dir:         filepath.Join(cfg.StateDir, "downloads"),
		Store:       store,
		Bundle:      bundle.Options{Trust: root, Identities: ids, MaxBundleSize: cfg.Watchlist.MaxSize, Logger: logger},
		RateLimit:   cfg.Hub.MaxBandwidth,
		Interval:    cfg.Hub.PollInterval.D(),
		Logger:      logger,
	})
}

// bundleBases are where bundles are pulled from, tried in turn: every hub
// replica's /v1/bundles/, or hub.bundle_urls (e.g. an S3-compatible store)
// when set.
func bundleBases(cfg *config.Config) []string {
	if len(cfg.Hub.BundleURLs) > 0 {
		return cfg.Hub.BundleURLs
	}
	var bases []string
	for _, h := range append([]string{cfg.Hub.URL}, cfg.Hub.URLs...) {
		bases = append(bases, strings.TrimRight(h, "/")+"/v1/bundles/")
	}
	return bases
}
