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
	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/device/chip"
	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/diskstat"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

func init() { rootCmd.AddCommand(newStatusCmd()) }

// techDefaultConfig is where the packaged checkpointd reads its config.
const techDefaultConfig = "/etc/checkpoint/checkpointd.yaml"

// statusAdminSocket is unit.AdminSocket: the admin socket's name in the
// state directory. internal/unit is the daemon's wiring and only
// cmd/checkpointd imports it, so the name is repeated here; the status
// test serves a real unit.Status to keep the two in step.
const statusAdminSocket = "admin.sock"

// Exit codes of status and diag beyond 1.
const (
	exitStatusUsage      = 2 // bad flags or config
	exitStatusNotRunning = 3 // no daemon behind the admin socket
)

// statusTimeout bounds the whole request to the daemon: a technician
// must not wait on a hung daemon.
const statusTimeout = 3 * time.Second

// errStatusNotRunning is returned by statusFetch when nothing listens on
// the admin socket (it is missing, or stale after a crash).
var errStatusNotRunning = errors.New("checkpointd is not running")

// statusReport mirrors unit.Status as JSON. Camera states are decoded into
// statusCamera because camera.Status only marshals (to its name).
type statusReport struct {
	Version   string              `json:"version"`
	StartedAt time.Time           `json:"started_at"`
	Now       time.Time           `json:"now"`
	Health    lane.Health         `json:"health"`
	Scanner   *scanner.State      `json:"scanner"`
	Camera    *statusCamera       `json:"camera"`
	Chip      *statusChip         `json:"chip,omitempty"`
	Watchlist statusWatchlist     `json:"watchlist"`
	Outbox    *outbox.Status      `json:"outbox"`
	Disk      diskstat.Usage      `json:"disk"`
	Errors    []statusErrorRecord `json:"last_errors"`
}

type statusCamera struct {
	Status     string        `json:"status"`
	Source     string        `json:"source"`
	Kind       string        `json:"kind"`
	Format     camera.Format `json:"format"`
	Seq        uint64        `json:"seq"`
	LastFrame  time.Time     `json:"last_frame"`
	Since      time.Time     `json:"since"`
	Reconnects int           `json:"reconnects"`
	Failures   int           `json:"failures"`
	Error      string        `json:"error"`
	ErrAt      time.Time     `json:"err_at"`
}

// statusChip mirrors unit.ChipStatus: the chip reader and the trust
// anchors in force.
type statusChip struct {
	chip.State
	TrustCSCAs     int    `json:"trust_cscas"`
	TrustCountries int    `json:"trust_countries"`
	TrustCRLs      int    `json:"trust_crls"`
	TrustError     string `json:"trust_error"`
}

type statusWatchlist struct {
	Meta            watchlist.Meta `json:"meta"`
	Age             string         `json:"age"`
	MaxAge          string         `json:"max_age"`
	Stale           bool           `json:"stale"`
	IntegrityErrors int64          `json:"integrity_errors"`
	FaceIndexLocked bool           `json:"face_index_locked"`
	LastSync        time.Time      `json:"last_sync"`
	LastSyncError   string         `json:"last_sync_error"`
}

type statusErrorRecord struct {
	At        time.Time `json:"at"`
	Component string    `json:"component"`
	Message   string    `json:"message"`
}

// statusOffline is what can be read without the daemon and without taking
// any lock: the audit log's head and the disk.
type statusOffline struct {
	Audit *statusAudit    `json:"audit,omitempty"`
	Disk  *diskstat.Usage `json:"disk,omitempty"`
}

// statusAudit is an audit verification reduced to counts and hashes.
type statusAudit struct {
	Path       string `json:"path"`
	Entries    uint64 `json:"entries"`
	Head       string `json:"head"`
	OK         bool   `json:"ok"`
	BrokenAt   uint64 `json:"broken_at,omitempty"`
	Incomplete bool   `json:"incomplete_tail"`
	Error      string `json:"error,omitempty"`
}

// statusPaths are the files status and diag look at, from --socket and
// --config.
type statusPaths struct {
	socket, stateDir, auditLog string
	cfg                        *config.Config
	cfgErr                     error
}

// resolveStatusPaths finds the admin socket: --socket wins, else the
// config's state directory. The config is still read when --socket is
// given, for the offline report; failing to read it is then not fatal.
func resolveStatusPaths(configPath, socket string, configSet bool) (statusPaths, error) {
	var p statusPaths
	p.cfg, p.cfgErr = config.Load(configPath)
	if p.cfgErr == nil {
		p.stateDir, p.auditLog = p.cfg.StateDir, p.cfg.Audit.Path
		p.socket = filepath.Join(p.cfg.StateDir, statusAdminSocket)
	}
	if socket != "" {
		p.socket = socket
		if p.cfgErr != nil || !configSet {
			p.stateDir = filepath.Dir(socket)
			p.auditLog = filepath.Join(p.stateDir, "audit.log")
		}
		return p, nil
	}
	if p.cfgErr != nil {
		return p, cli.Exit(exitStatusUsage, fmt.Errorf("%w (or give --socket PATH)", p.cfgErr))
	}
	return p, nil
}

// statusFetch asks the daemon for its status. errStatusNotRunning means
// there is no daemon; other errors mean one that misbehaves or that we may
// not talk to.
func statusFetch(ctx context.Context, socket string) ([]byte, error) {
	return adminFetch(ctx, socket, "/v1/status")
}

// adminTransport talks HTTP to the daemon's admin socket, one connection
// per request.
func adminTransport(socket string) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableKeepAlives: true,
	}
}

// adminFetch GETs path from the daemon's admin socket; errors as statusFetch.
func adminFetch(ctx context.Context, socket, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	tr := adminTransport(socket)
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://checkpointd"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	switch {
	case err == nil:
	case errors.Is(err, syscall.ENOENT):
		return nil, fmt.Errorf("%w (no admin socket at %s)", errStatusNotRunning, socket)
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil, fmt.Errorf("%w (nothing listens on the admin socket %s)", errStatusNotRunning, socket)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return nil, fmt.Errorf("admin socket %s: permission denied (run as root or as checkpointd's user)", socket)
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("checkpointd did not answer on %s within %v", socket, statusTimeout)
	default:
		return nil, fmt.Errorf("admin socket %s: %w", socket, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: read %s: %w", socket, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("admin socket %s: %s: %s", socket, resp.Status, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	return body, nil
}

// statusAuditOf verifies the audit log without changing or locking it.
func statusAuditOf(path string) *statusAudit {
	if path == "" {
		return nil
	}
	rep, err := audit.Verify(path)
	a := &statusAudit{Path: path, Entries: rep.Entries, Head: rep.Head, OK: err == nil, Incomplete: rep.Incomplete}
	switch {
	case errors.Is(err, audit.ErrBroken):
		a.BrokenAt = rep.Entries + 1
		a.Error = fmt.Sprintf("chain broken at entry %d", a.BrokenAt)
	case err != nil:
		a.Error = err.Error()
	}
	return a
}

func statusOfflineOf(p statusPaths) statusOffline {
	var off statusOffline
	off.Audit = statusAuditOf(p.auditLog)
	if p.stateDir != "" {
		if u, err := diskstat.Stat(p.stateDir); err == nil {
			off.Disk = &u
		}
	}
	return off
}

func newStatusCmd() *cobra.Command {
	var configPath, socket string
	cmd := &cobra.Command{
		Use:   "status [--config FILE | --socket PATH]",
		Short: "One screen of the running daemon: devices, watchlist, link, outbox, disk, errors",
		Long: "Asks checkpointd on its admin socket (<state_dir>/admin.sock) for its status. " +
			"When the daemon is not running it says so, prints what can be read without it " +
			"(audit log head, disk) and exits with status 3.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := resolveStatusPaths(configPath, socket, cmd.Flags().Changed("config"))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			body, err := statusFetch(cmd.Context(), p.socket)
			if errors.Is(err, errStatusNotRunning) {
				off := statusOfflineOf(p)
				if jsonOutput(cmd) {
					if werr := cli.WriteJSONLine(out, struct {
						Running bool   `json:"running"`
						Socket  string `json:"socket"`
						Error   string `json:"error"`
						statusOffline
					}{false, p.socket, err.Error(), off}); werr != nil {
						return werr
					}
				} else {
					printStatusOffline(out, off)
				}
				return cli.Exit(exitStatusNotRunning, err)
			}
			if err != nil {
				return err
			}
			var st statusReport
			if err := json.Unmarshal(body, &st); err != nil {
				return fmt.Errorf("admin socket %s: status is not what this checkpointctl understands: %w", p.socket, err)
			}
			if jsonOutput(cmd) {
				var compact bytes.Buffer
				if err := json.Compact(&compact, body); err != nil {
					return err
				}
				return cli.WriteJSONLine(out, struct {
					Running bool            `json:"running"`
					Socket  string          `json:"socket"`
					Status  json.RawMessage `json:"status"`
				}{true, p.socket, compact.Bytes()})
			}
			printStatus(out, &st)
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", techDefaultConfig, "checkpointd's config (gives state_dir)")
	cmd.Flags().StringVar(&socket, "socket", "", "admin socket (default: <state_dir>/admin.sock)")
	return cmd
}

// printStatusChip prints the chip reader's lines: reader, card, last
// error, trust anchors (nothing when the unit has no chip reader).
func printStatusChip(tw io.Writer, s *statusReport) {
	c := s.Chip
	if c == nil {
		if s.Health.ChipReader != "" {
			fmt.Fprintf(tw, "chip reader\t%s\t%s\n", strings.ToUpper(s.Health.ChipReader), s.Health.ChipReaderError)
		}
		return
	}
	state := "connected"
	switch {
	case !c.Connected:
		state = "PCSCD DOWN"
	case c.Reader == "":
		state = "NO READER"
	}
	card := "no card"
	if c.CardPresent {
		card = "card present"
	}
	fmt.Fprintf(tw, "chip reader\t%s\t%s, %s, since %s, %d cards read\n", state, dash(c.Reader), card, statusWhen(c.Since, s.Now), c.Insertions)
	if c.LastError != "" {
		fmt.Fprintf(tw, "\tlast error\t%s\n", c.LastError)
	}
	trust := fmt.Sprintf("%d CSCAs of %d countries, %d CRLs", c.TrustCSCAs, c.TrustCountries, c.TrustCRLs)
	if c.TrustCSCAs == 0 {
		trust = "NONE: every chip is \"not verified\" (checkpointctl chip trust import)"
	}
	fmt.Fprintf(tw, "\ttrust anchors\t%s\n", trust)
	if c.TrustError != "" {
		fmt.Fprintf(tw, "\tTRUST FILE\t%s\n", c.TrustError)
	}
}

// statusWhen renders a time as a clock time today, a date otherwise, with
// how long ago.
func statusWhen(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	if now.IsZero() {
		now = time.Now()
	}
	t, now = t.Local(), now.Local()
	f := "2006-01-02 15:04"
	if t.Format("20060102") == now.Format("20060102") {
		f = "15:04:05"
	}
	ago := now.Sub(t)
	if ago < 0 {
		return t.Format(f)
	}
	return fmt.Sprintf("%s (%s ago)", t.Format(f), statusDuration(ago))
}

// statusDuration rounds to what a person reads at a glance.
func statusDuration(d time.Duration) string {
	switch {
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

func printStatus(w io.Writer, s *statusReport) {
	h := s.Health
	up := ""
	if !s.StartedAt.IsZero() {
		up = ", up " + statusDuration(s.Now.Sub(s.StartedAt))
	}
	fmt.Fprintf(w, "checkpointd %s  unit %s (%s)%s\n", dash(s.Version), dash(h.Unit), dash(h.Mode), up)
	if len(h.Alarms) > 0 {
		fmt.Fprintf(w, "ALARMS: %s\n", strings.Join(h.Alarms, "; "))
	} else {
		fmt.Fprintln(w, "health: OK")
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// Devices.
	switch {
	case s.Scanner != nil:
		state := "DISCONNECTED"
		if s.Scanner.Connected {
			state = "connected"
		}
		fmt.Fprintf(tw, "scanner\t%s\t%s, since %s, %d documents\n", state, dash(s.Scanner.Port), statusWhen(s.Scanner.Since, s.Now), s.Scanner.Events)
		if s.Scanner.LastError != "" {
			fmt.Fprintf(tw, "\tlast error\t%s\n", s.Scanner.LastError)
		}
		if d := s.Scanner.Decoder; d.Rejected() > 0 || s.Scanner.QueueFulls > 0 {
			// Frames thrown away may be documents nobody checked.
			fmt.Fprintf(tw, "\tframes\t%d framed; REJECTED %d partial, %d malformed, %d bad BCC, %d overlong; input queue filled %d times%s\n",
				d.Frames, d.Partial, d.Malformed, d.BadBCC, d.Overlong, s.Scanner.QueueFulls, map[bool]string{true: " (FULL now)"}[s.Scanner.QueueFull])
		}
	default:
		fmt.Fprintf(tw, "scanner\t%s\t\n", dash(h.Scanner))
	}
	switch {
	case s.Camera != nil:
		c := s.Camera
		state := c.Status
		if state != "streaming" {
			state = strings.ToUpper(state)
		}
		fmt.Fprintf(tw, "camera\t%s\t%s, %s %dx%d@%g (%s), since %s\n", state, dash(c.Source), dash(c.Format.FourCC),
			c.Format.Width, c.Format.Height, c.Format.FPS, dash(c.Format.Backend), statusWhen(c.Since, s.Now))
		if c.Error != "" {
			fmt.Fprintf(tw, "\tlast error\t%s, at %s\n", c.Error, statusWhen(c.ErrAt, s.Now))
		}
	default:
		fmt.Fprintf(tw, "camera\t%s\t\n", dash(h.Camera))
	}
	printStatusChip(tw, s)

	// Watchlist.
	wl := s.Watchlist
	if wl.Meta.Sequence == 0 {
		fmt.Fprintf(tw, "watchlist\tNONE INSTALLED\t\n")
	} else {
		fresh := "fresh"
		if wl.Stale {
			fresh = "STALE"
		}
		fmt.Fprintf(tw, "watchlist\t%s\t%s version %d, issued %s, age %s (max %s)\n", fresh, dash(wl.Meta.WatchlistID), wl.Meta.Sequence,
			wl.Meta.IssuedAt.Format("2006-01-02 15:04"), dash(wl.Age), dash(wl.MaxAge))
		fmt.Fprintf(tw, "\trecords\t%d documents, %d persons, %d faces\n", wl.Meta.Documents, wl.Meta.Persons, wl.Meta.Faces)
	}
	if wl.IntegrityErrors > 0 {
		fmt.Fprintf(tw, "\tINTEGRITY\t%d records failed authentication\n", wl.IntegrityErrors)
	}
	if !wl.LastSync.IsZero() || wl.LastSyncError != "" {
		fmt.Fprintf(tw, "\tlast sync\t%s\n", statusWhen(wl.LastSync, s.Now))
	}
	if wl.LastSyncError != "" {
		fmt.Fprintf(tw, "\tsync error\t%s\n", wl.LastSyncError)
	}

	// Link and outbox.
	if o := s.Outbox; o != nil {
		link := o.Link.State.String()
		if o.Link.State != outbox.LinkUp {
			link = strings.ToUpper(link)
		}
		if h.Link == "offline" {
			link = "offline (no hub configured)"
		}
		fmt.Fprintf(tw, "link\t%s\tlast success %s, %d uploaded\n", link, statusWhen(o.Link.LastSuccess, s.Now), o.Link.Uploaded)
		if o.Link.LastError != "" {
			fmt.Fprintf(tw, "\tlast error\t%s (%d failures in a row)\n", o.Link.LastError, o.Link.ConsecutiveFailures)
		}
		fmt.Fprintf(tw, "outbox\t%d queued\t%d hits, %d routine, %s", o.Depth, o.Hits, o.Routine, diskstat.Human(uint64(max(o.Bytes, 0))))
		if !o.Oldest.IsZero() {
			fmt.Fprintf(tw, ", oldest %s", statusWhen(o.Oldest, s.Now))
		}
		fmt.Fprintln(tw)
		if o.DiskFull {
			fmt.Fprintf(tw, "\tDISK FULL\tnew results are refused\n")
		}
		if o.Evicted > 0 {
			fmt.Fprintf(tw, "\tevicted\t%d routine results (quota)\n", o.Evicted)
		}
		if o.LastError != "" {
			fmt.Fprintf(tw, "\tlast error\t%s\n", o.LastError)
		}
	} else {
		fmt.Fprintf(tw, "link\t%s\t\n", dash(h.Link))
		fmt.Fprintf(tw, "outbox\t%d queued\t%d hits\n", h.OutboxDepth, h.OutboxHits)
	}

	// Disk.
	d := s.Disk
	low := "ok"
	if d.Low {
		low = "LOW"
	}
	fmt.Fprintf(tw, "disk\t%s\t%s free of %s on %s\n", low, diskstat.Human(d.FreeBytes), diskstat.Human(d.TotalBytes), dash(d.Path))
	tw.Flush()

	fmt.Fprintln(w)
	if len(s.Errors) == 0 {
		fmt.Fprintln(w, "last errors: none")
		return
	}
	fmt.Fprintln(w, "last errors:")
	errs := s.Errors
	if len(errs) > 8 { // one screen: the newest only
		errs = errs[len(errs)-8:]
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range errs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", statusWhen(e.At, s.Now), dash(e.Component), e.Message)
	}
	tw.Flush()
}

func printStatusOffline(w io.Writer, off statusOffline) {
	fmt.Fprintln(w, "checkpointd: NOT RUNNING")
	fmt.Fprintln(w, "read without the daemon:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if a := off.Audit; a != nil {
		printAuditLine(tw, a)
	}
	if d := off.Disk; d != nil {
		low := "ok"
		if d.Low {
			low = "LOW"
		}
		fmt.Fprintf(tw, "  disk\t%s\t%s free of %s on %s\n", low, diskstat.Human(d.FreeBytes), diskstat.Human(d.TotalBytes), d.Path)
	}
	tw.Flush()
}

// printAuditLine writes one tab-separated line about an audit log.
func printAuditLine(tw io.Writer, a *statusAudit) {
	switch {
	case a.OK:
		note := ""
		if a.Incomplete {
			note = ", incomplete last line"
		}
		fmt.Fprintf(tw, "  audit log\tOK\t%s: %d entries, head %s%s\n", a.Path, a.Entries, a.Head, note)
	case a.BrokenAt > 0:
		fmt.Fprintf(tw, "  audit log\tBROKEN\t%s: %s\n", a.Path, a.Error)
	case errors.Is(statusStatErr(a.Path), os.ErrNotExist):
		fmt.Fprintf(tw, "  audit log\tmissing\t%s\n", a.Path)
	default:
		fmt.Fprintf(tw, "  audit log\tunreadable\t%s\n", a.Error)
	}
}

func statusStatErr(path string) error {
	_, err := os.Stat(path)
	return err
}
