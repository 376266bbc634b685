package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxstore"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

func init() {
	channelConsumers[bundle.KindPrearrival] = func() channel.Consumer { return paxdata.NewArrivals(nil) }
	c := &cobra.Command{
		Use:   "paxdata",
		Short: "Airline passenger data (API/PAXLST, PNR/PNRGOV): screen flights before they land",
	}
	c.AddCommand(newPaxScreenCmd())
	rootCmd.AddCommand(c)
}

// paxFileResult is what screen prints per file with --json.
type paxFileResult struct {
	File    string            `json:"file"`
	Reports []*paxdata.Report `json:"reports"`
	Errors  []string          `json:"errors"`
	// Via is "checkpointd" when the running daemon screened (and keeps the
	// alerts for the lane), "local" when this command did.
	Via string `json:"via"`
}

func newPaxScreenCmd() *cobra.Command {
	var configPath, socket, storePath, storeKey string
	var offline bool
	c := &cobra.Command{
		Use:   "screen FILE…",
		Short: "Screen PAXLST/PNRGOV files against the watchlist and list who has a hit or a possible match",
		Long: `Parse each file (UN/EDIFACT PAXLST D02B/D05B or PNRGOV), screen every
passenger and crew member with the desk's check (document against lost,
stolen and revoked documents; person by name, date of birth, nationality and
sex), and print each flight's pre-arrival list: counts and the flagged
travellers with score and explanation.

When checkpointd runs, the files go to it over the admin socket: it screens
against its watchlist and keeps the alerts, so the lane shows "pre-arrival
alert" when one of the travellers scans their passport. Otherwise (or with
--offline) this command opens the watchlist itself (--store, --key, or the
unit's config) and, when the unit's config is readable, stores the reports
encrypted for the daemon's next start. A message that cannot be read is
reported with its reference, segment number and reason; the others are
screened. Exit code 1 when a file held messages that could not be read.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, cfgErr := config.Load(configPath)
			if socket == "" && cfgErr == nil {
				socket = filepath.Join(cfg.StateDir, statusAdminSocket)
			}
			var results []paxFileResult
			var local *paxLocal
			defer func() {
				if local != nil {
					local.Close()
				}
			}()
			for _, path := range args {
				data, err := os.ReadFile(path)
				if err != nil {
					return cli.Exit(2, err)
				}
				res, err := paxViaDaemon(cmd.Context(), socket, path, data, offline)
				if errors.Is(err, errStatusNotRunning) {
					if local == nil {
						if local, err = openPaxLocal(cmd, cfg, cfgErr, storePath, storeKey); err != nil {
							return err
						}
					}
					res, err = local.screen(cmd.Context(), path, data)
				}
				clear(data)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				results = append(results, *res)
			}
			bad := false
			for _, r := range results {
				bad = bad || len(r.Errors) > 0
				if jsonOutput(cmd) {
					if err := cli.WriteJSONLine(cmd.OutOrStdout(), r); err != nil {
						return err
					}
					continue
				}
				printPaxResult(cmd.OutOrStdout(), r)
			}
			if bad {
				return cli.Exit(1, errors.New("some messages could not be read (listed above); the others were screened"))
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&configPath, "config", defaultConfigPath, "unit config: admin socket, watchlist and paxdata store")
	f.StringVar(&socket, "socket", "", "checkpointd's admin socket (default <state_dir>/admin.sock)")
	f.BoolVar(&offline, "offline", false, "screen here even if checkpointd runs (needs its stores unlocked)")
	f.StringVar(&storePath, "store", "", "watchlist store (default: the config's)")
	f.StringVar(&storeKey, "key", "", "watchlist key-encryption key (default: the config's)")
	return c
}

// paxViaDaemon hands a file to the running daemon; errStatusNotRunning
// when there is none (or offline).
func paxViaDaemon(ctx context.Context, socket, path string, data []byte, offline bool) (*paxFileResult, error) {
	if offline || socket == "" {
		return nil, errStatusNotRunning
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://checkpointd/v1/paxdata/screen", bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		return nil, errStatusNotRunning
	case err != nil:
		return nil, fmt.Errorf("admin socket %s: %w", socket, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		json.Unmarshal(body, &e)
		return nil, fmt.Errorf("checkpointd: %s: %s", resp.Status, e.Error)
	}
	var r struct {
		Reports []*paxdata.Report `json:"reports"`
		Errors  []string          `json:"errors"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("checkpointd answered something this checkpointctl does not understand: %w", err)
	}
	return &paxFileResult{File: path, Reports: r.Reports, Errors: r.Errors, Via: "checkpointd"}, nil
}

// paxLocal screens without the daemon.
type paxLocal struct {
	wl    *watchlist.Store
	store *paxstore.Store // nil without a usable config
	audit *techAudit
	unit  string
}

func openPaxLocal(cmd *cobra.Command, cfg *config.Config, cfgErr error, storePath, storeKey string) (*paxLocal, error) {
	if cfgErr == nil {
		storePath, storeKey = cmpOr(storePath, cfg.Watchlist.Path), cmpOr(storeKey, cfg.Watchlist.Key)
	}
	if storePath == "" || storeKey == "" {
		return nil, cli.Exit(2, fmt.Errorf("no watchlist: give --store and --key, or a readable --config (%v)", cfgErr))
	}
	kp, err := seal.ParseProvider(storeKey)
	if err != nil {
		return nil, cli.Exit(2, fmt.Errorf("--key: %w", err))
	}
	l := &paxLocal{unit: "checkpointctl"}
	if l.wl, err = watchlist.Open(storePath, kp, watchlist.Options{Timeout: 3 * time.Second}); err != nil {
		if strings.Contains(err.Error(), "timeout") {
			err = fmt.Errorf("%w (checkpointd holds the watchlist but does not answer on its admin socket)", err)
		}
		return nil, err
	}
	if cfgErr == nil {
		l.unit = cfg.Unit.ID
		pkp, err := seal.ParseProvider(cfg.PaxdataKey())
		if err == nil {
			l.store, err = paxstore.Open(cfg.Paxdata.Path, pkp, paxstore.Options{Timeout: 3 * time.Second})
		}
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("paxdata store: %w", err)
		}
		if l.audit, err = openTechAuditAt(cfg.Audit.Path); err != nil {
			l.Close()
			return nil, err
		}
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "note: no unit config (%v): results are printed, not kept, not audited\n", cfgErr)
	}
	return l, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (l *paxLocal) Close() {
	if l.wl != nil {
		l.wl.Close()
	}
	if l.store != nil {
		l.store.Close()
	}
	if l.audit != nil {
		l.audit.Close()
	}
}

func (l *paxLocal) screen(ctx context.Context, path string, data []byte) (*paxFileResult, error) {
	res, err := paxdata.Parse(data, paxdata.ParseOptions{Zone: func(string) *time.Location { return time.Local }})
	if err != nil {
		return &paxFileResult{File: path, Errors: []string{err.Error()}, Reports: []*paxdata.Report{}, Via: "local"}, nil
	}
	out := &paxFileResult{File: path, Errors: res.ErrorStrings(), Reports: []*paxdata.Report{}, Via: "local"}
	sc := &paxdata.Screener{Watchlist: l.wl, ScreenedBy: l.unit}
	source := paxdata.Source("cli", data)
	for _, m := range res.Manifests {
		r, err := sc.Screen(ctx, m)
		if err != nil {
			return nil, err
		}
		out.Reports = append(out.Reports, r)
		if l.store != nil {
			e := &paxstore.Entry{Meta: paxstore.Meta{ID: paxstore.EntryID(m), Message: m.Message, Reference: m.Reference, Sender: m.Sender,
				Source: source, Flight: m.Flight.Number, Departure: m.Flight.Departure, Arrival: m.Flight.Arrival,
				ArrivalAt: m.Flight.ExpectedArrival(), ReceivedAt: time.Now().UTC(), Travellers: len(m.Travellers), Flagged: len(r.Flagged)},
				Report: r}
			if err := l.store.Put(e); err != nil {
				return nil, err
			}
		}
		l.audit.record(audit.KindSystem, "paxdata_screened", map[string]string{"source": source, "message": m.Message,
			"reference": m.Reference, "flight": m.Flight.Number, "arrival": m.Flight.Arrival,
			"travellers": fmt.Sprint(len(m.Travellers)), "screened": fmt.Sprint(r.Counts.Screened),
			"hits": fmt.Sprint(r.Counts.Hits), "possible": fmt.Sprint(r.Counts.Possible), "watchlist_sequence": fmt.Sprint(r.WatchlistSequence)})
	}
	for _, e := range out.Errors {
		l.audit.record(audit.KindSystem, "paxdata_message_refused", map[string]string{"source": source, "reason": e})
	}
	return out, nil
}

// printPaxResult prints a file's flights as a readable table.
func printPaxResult(w io.Writer, r paxFileResult) {
	fmt.Fprintf(w, "%s (screened by %s)\n", r.File, r.Via)
	for _, rep := range r.Reports {
		f := rep.Flight
		fmt.Fprintf(w, "\n  %s %s %s → %s  arrives %s  (%s %s)\n", rep.Message, f.Number, f.Departure, f.Arrival,
			f.ExpectedArrival().Local().Format("2006-01-02 15:04"), rep.Message, rep.Reference)
		c := rep.Counts
		fmt.Fprintf(w, "  %d passengers, %d crew, %d screened, %d hits, %d possible", c.Passengers, c.Crew, c.Screened, c.Hits, c.Possible)
		if c.Declared > 0 && c.Declared != c.Passengers+c.Crew {
			fmt.Fprintf(w, " — the message declares %d", c.Declared)
		}
		if rep.Failed > 0 {
			fmt.Fprintf(w, ", %d NOT SCREENED", rep.Failed)
		}
		fmt.Fprintf(w, "  (watchlist %s v%d)\n", rep.WatchlistID, rep.WatchlistSequence)
		for _, wn := range rep.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", wn)
		}
		if len(rep.Flagged) == 0 {
			fmt.Fprintln(w, "  nobody flagged")
			continue
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  LEVEL\tTRAVELLER\tBORN\tNAT\tDOCUMENT\tMATCH\tSCORE\tACTION\tEXPLANATION")
		for _, s := range rep.Flagged {
			t := s.Traveller
			for i, m := range s.Matches {
				lvl, who, born, nat, doc := strings.ToUpper(s.Level), t.Name(), t.BirthDate, t.Nationality, strings.TrimSpace(t.IssuingState+" "+t.DocumentNumber)
				if t.Role == paxdata.RoleCrew {
					who += " (crew)"
				}
				if i > 0 {
					lvl, who, born, nat, doc = "", "", "", "", ""
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s %s\t%.2f\t%s\t%s\n", lvl, who, born, nat, doc, m.Kind, m.RefID, m.Score,
					strings.TrimSpace(m.Action+" "+m.Category), m.Explanation)
			}
		}
		tw.Flush()
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  ERROR %s\n", e)
	}
	fmt.Fprintln(w)
}
