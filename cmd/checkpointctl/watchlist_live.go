package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// A running checkpointd holds its watchlist store's file lock, so a
// technician's `watchlist info` and `watchlist search` on a live unit go
// through the daemon's admin socket; with no daemon they open the file.
// Which store and which daemon come from --config unless --store names a
// file (then the file is opened, whatever runs).

// liveWatchlist fills --store and --key from --config when --store is not
// given, and returns the admin socket of the daemon serving that config
// ("" when --store names a file or no config can be read). A config named
// with --config must load.
func liveWatchlist(cmd *cobra.Command, configPath string) (string, error) {
	if cmd.Flags().Changed("store") {
		return "", nil
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		if cmd.Flags().Changed("config") {
			return "", cli.Exit(2, err)
		}
		return "", nil
	}
	if cfg.Watchlist.Path != "" {
		if err := cmd.Flags().Set("store", cfg.Watchlist.Path); err != nil {
			return "", err
		}
	}
	if cfg.Watchlist.Key != "" && !cmd.Flags().Changed("key") {
		if err := cmd.Flags().Set("key", cfg.Watchlist.Key); err != nil {
			return "", err
		}
	}
	return filepath.Join(cfg.StateDir, statusAdminSocket), nil
}

// watchlistInfo asks the daemon, else opens the store read-only.
// Threshold flags describe a file's screening, not the daemon's: with
// them the file is opened.
func watchlistInfo(cmd *cobra.Command, configPath string, th thresholdFlags, maxAge time.Duration) (watchlist.Info, error) {
	sock, err := liveWatchlist(cmd, configPath)
	if err != nil {
		return watchlist.Info{}, err
	}
	if sock != "" && th == (thresholdFlags{}) {
		body, err := adminFetch(cmd.Context(), sock, "/v1/watchlist/info?max_age="+url.QueryEscape(maxAge.String()))
		switch {
		case err == nil:
			var in watchlist.Info
			if err := json.Unmarshal(body, &in); err != nil {
				return in, fmt.Errorf("admin socket %s: %w", sock, err)
			}
			return in, nil
		case !errors.Is(err, errStatusNotRunning):
			return watchlist.Info{}, err
		}
	}
	s, err := openSearchStore(cmd, configPath, th)
	if err != nil {
		return watchlist.Info{}, err
	}
	defer s.Close()
	return s.Info(time.Now(), maxAge)
}

// searchLive runs one document or person query through the daemon as a
// batch of one. ok is false when no daemon serves --config (the caller
// opens the store). The daemon answers with the HIT and POSSIBLE levels,
// at its own thresholds.
func searchLive(cmd *cobra.Command, configPath string, th thresholdFlags, kind string, q watchlist.PersonQuery) (out searchOutput, ok bool, err error) {
	sock, err := liveWatchlist(cmd, configPath)
	if err != nil || sock == "" {
		return out, false, err
	}
	if _, err := adminFetch(cmd.Context(), sock, "/v1/watchlist/info"); errors.Is(err, errStatusNotRunning) {
		return out, false, nil
	} else if err != nil {
		return out, false, err
	}
	if th != (thresholdFlags{}) {
		return out, false, cli.Exit(2, errors.New("checkpointd is running and screens with its configured thresholds: threshold flags do not apply (give --store to search a copy of the file)"))
	}
	line, err := json.Marshal(watchlist.BatchQuery{ID: "query", PersonQuery: q})
	if err != nil {
		return out, false, err
	}
	var res bytes.Buffer
	if err := screenViaDaemon(cmd.Context(), sock, bytes.NewReader(append(line, '\n')), &res); err != nil {
		return out, false, err
	}
	var r watchlist.BatchResult
	if err := json.Unmarshal(bytes.TrimSpace(res.Bytes()), &r); err != nil {
		return out, false, fmt.Errorf("admin socket %s: %w", sock, err)
	}
	if r.Error != "" {
		return out, false, cli.Exit(2, errors.New(r.Error))
	}
	out = searchOutput{Query: kind, Hits: r.Hits, Errors: r.Errors}
	if out.Hits == nil {
		out.Hits = []watchlist.Hit{}
	}
	return out, true, nil
}

// liveQuery is the --doc or --name query in the batch form.
func liveQuery(doc, name, dob, nat, sex string, truncated bool, limit int) (string, watchlist.PersonQuery, error) {
	if doc != "" {
		parts := strings.Split(doc, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return "", watchlist.PersonQuery{}, cli.Exit(2, fmt.Errorf("--doc %q: want STATE:NUMBER[:TYPE]", doc))
		}
		q := watchlist.PersonQuery{DocumentIssuer: parts[0], DocumentNumber: parts[1]}
		if len(parts) == 3 {
			q.DocumentType = parts[2]
		}
		return "document", q, nil
	}
	if _, err := personQuery(name, dob, nat, sex, truncated); err != nil { // the same checks as on a file
		return "", watchlist.PersonQuery{}, cli.Exit(2, err)
	}
	return "person", watchlist.PersonQuery{Name: name, BirthDate: dob, Nationality: nat, Sex: strings.ToUpper(sex),
		NameTruncated: truncated, Limit: limit}, nil
}
