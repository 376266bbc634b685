package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/hub/prearrival"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxstore"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
)

// paxFlags configure pre-arrival screening at headquarters (package
// hub/prearrival); off unless --paxdata-sign is given. The service lives
// in this file; serve mounts it with withPaxdata and runs it beside the
// hub.
type paxFlags struct {
	sign, to, identity, trust, inbox, uploaders, zones, watchlistID, authority string
	grace, api, pnrMask, pnrDelete                                             time.Duration
}

func (p *paxFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.sign, "paxdata-sign", "", "pre-arrival screening: the key that signs the prearrival bundles (enables the service)")
	fs.StringVar(&p.to, "paxdata-to", "", "pre-arrival screening: age recipients of the prearrival bundles (age1… or files, comma-separated)")
	fs.StringVar(&p.identity, "paxdata-identity", "", "pre-arrival screening: age identity that decrypts the published watchlist")
	fs.StringVar(&p.trust, "paxdata-trust", "", "pre-arrival screening: root of trust that verifies the published watchlist")
	fs.StringVar(&p.inbox, "paxdata-inbox", "", "pre-arrival screening: directory of PAXLST/PNRGOV files to screen (deleted once stored)")
	fs.StringVar(&p.uploaders, "paxdata-uploaders", "", "pre-arrival screening: certificate ids that may POST /v1/paxdata (airline gateways, operators)")
	fs.StringVar(&p.zones, "paxdata-zones", "", "pre-arrival screening: arrival ports' time zones, e.g. LHR=Europe/London,JFK=America/New_York")
	fs.StringVar(&p.watchlistID, "paxdata-watchlist", "national", "pre-arrival screening: the published watchlist to screen against")
	fs.StringVar(&p.authority, "paxdata-authority", "HQ", "pre-arrival screening: who the alerts say screened them")
	fs.DurationVar(&p.grace, "paxdata-grace", 6*time.Hour, "pre-arrival screening: alerts stay this long after the arrival")
	fs.DurationVar(&p.api, "paxdata-retention-api", paxstore.DefaultAPI, "API data is deleted this long after the arrival")
	fs.DurationVar(&p.pnrMask, "paxdata-retention-pnr-depersonalise", paxstore.DefaultPNRDepersonalise, "PNR data is depersonalised this long after receipt")
	fs.DurationVar(&p.pnrDelete, "paxdata-retention-pnr-delete", paxstore.DefaultPNRDelete, "PNR data is deleted this long after receipt")
}

func (p *paxFlags) enabled() bool { return p.sign != "" }

// open starts the service's stores under dataDir/paxdata.
func (p *paxFlags) open(dataDir, bundleDir string, kp seal.KeyProvider, log *slog.Logger) (*prearrival.Service, error) {
	if bundleDir == "" || p.to == "" || p.identity == "" || p.trust == "" {
		return nil, cli.Exit(2, errors.New("--paxdata-sign needs --bundles, --paxdata-to, --paxdata-identity and --paxdata-trust"))
	}
	key, err := trust.ReadPrivateKey(p.sign)
	if err != nil {
		return nil, cli.Exit(2, fmt.Errorf("--paxdata-sign: %w", err))
	}
	rcpts, err := bundle.ParseRecipients(strings.Split(p.to, ","))
	if err != nil {
		return nil, cli.Exit(2, fmt.Errorf("--paxdata-to: %w", err))
	}
	ids, err := bundle.LoadIdentities(p.identity)
	if err != nil {
		return nil, cli.Exit(2, fmt.Errorf("--paxdata-identity: %w", err))
	}
	root, err := trust.Load(p.trust)
	if err != nil {
		return nil, cli.Exit(2, fmt.Errorf("--paxdata-trust: %w", err))
	}
	zones := map[string]*time.Location{}
	for _, z := range splitList(p.zones) {
		port, name, ok := strings.Cut(z, "=")
		loc, err := time.LoadLocation(name)
		if !ok || err != nil || len(port) != 3 {
			return nil, cli.Exit(2, fmt.Errorf("--paxdata-zones: %q: want PORT=Area/City", z))
		}
		zones[strings.ToUpper(port)] = loc
	}
	return prearrival.Open(prearrival.Config{Dir: filepath.Join(dataDir, "paxdata"), Key: kp, BundleDir: bundleDir,
		WatchlistID: p.watchlistID, Trust: root, Identities: ids, Sign: key, Recipients: rcpts, Authority: p.authority,
		Inbox: p.inbox, Uploaders: splitList(p.uploaders), Zones: zones, Grace: p.grace,
		Retention: paxstore.Retention{API: p.api, PNRDepersonalise: p.pnrMask, PNRDelete: p.pnrDelete},
		Logger:    log.With("component", "paxdata")})
}

// withPaxdata mounts the service's routes (/v1/paxdata…) beside the hub's.
func withPaxdata(h http.Handler, svc *prearrival.Service, operators []string) http.Handler {
	mux := http.NewServeMux()
	ph := svc.Handler(operators)
	mux.Handle("/v1/paxdata", ph)
	mux.Handle("/v1/paxdata/", ph)
	mux.Handle("/", h)
	return mux
}

// runPaxdata runs the service until ctx ends, logging a stop.
func runPaxdata(ctx context.Context, svc *prearrival.Service, log *slog.Logger) {
	if err := svc.Run(ctx); err != nil && ctx.Err() == nil {
		log.Error("pre-arrival screening stopped", "err", err)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
