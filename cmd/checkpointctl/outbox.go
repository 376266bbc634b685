package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"filippo.io/age"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

func init() { rootCmd.AddCommand(newOutboxCmd()) }

// Exit codes of the outbox commands beyond 1 (generic failure).
const (
	exitOutboxUsage   = 2 // bad flags, keys or certificates
	exitOutboxHub     = 3 // hub unreachable or refusing
	exitOutboxBusy    = 4 // the daemon holds the outbox
	exitOutboxPartial = 5 // drain stopped with records left
)

type outboxFlags struct {
	config, path, key string
	socket            string // the admin socket of the daemon that holds the outbox
}

func newOutboxCmd() *cobra.Command {
	f := &outboxFlags{}
	c := &cobra.Command{
		Use:   "outbox",
		Short: "Inspect, upload or hand-carry the queue of results for headquarters",
		Long: `The outbox holds every result until headquarters confirms it.

The file and its key come from checkpointd's config (--config), unless
--outbox and --key name them. While checkpointd runs it holds the file:
status and list then ask the daemon over its admin socket; drain and
export need the daemon stopped.`,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return f.resolve(cmd) },
	}
	c.PersistentFlags().StringVar(&f.config, "config", techDefaultConfig, "checkpointd's config (gives the outbox, its key and the admin socket)")
	c.PersistentFlags().StringVar(&f.path, "outbox", "/var/lib/checkpoint/outbox.db", "outbox database (default: from --config)")
	c.PersistentFlags().StringVar(&f.key, "key", "credential:outbox.kek", "key-encryption key (file:PATH, credential:NAME, env:VAR; default: from --config)")
	c.AddCommand(newOutboxStatusCmd(f), newOutboxListCmd(f), newOutboxDrainCmd(f), newOutboxExportCmd(f))
	return c
}

// resolve fills the outbox path, key and admin socket from the config
// unless flags name them. A missing default config is not an error (a
// technician may work on a copied file); a config named with --config
// must load.
func (f *outboxFlags) resolve(cmd *cobra.Command) error {
	cfg, err := config.Load(f.config)
	if err != nil {
		if cmd.Flags().Changed("config") {
			return cli.Exit(exitOutboxUsage, err)
		}
		return nil
	}
	if !cmd.Flags().Changed("outbox") {
		f.path = cfg.Outbox.Path
	}
	if !cmd.Flags().Changed("key") {
		f.key = cfg.Outbox.Key
	}
	if !cmd.Flags().Changed("outbox") {
		// The daemon serving this config holds this outbox.
		f.socket = filepath.Join(cfg.StateDir, statusAdminSocket)
	}
	return nil
}

// fromDaemon asks the running daemon for path on its admin socket. ok is
// false when no daemon runs (then the caller opens the file itself).
func (f *outboxFlags) fromDaemon(cmd *cobra.Command, path string, v any) (ok bool, err error) {
	if f.socket == "" {
		return false, nil
	}
	body, err := adminFetch(cmd.Context(), f.socket, path)
	if errors.Is(err, errStatusNotRunning) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return false, fmt.Errorf("admin socket %s: %w", f.socket, err)
	}
	return true, nil
}

func (f *outboxFlags) open() (*outbox.Outbox, error) {
	kp, err := seal.ParseProvider(f.key)
	if err != nil {
		return nil, cli.Exit(exitOutboxUsage, err)
	}
	if _, err := os.Stat(f.path); err != nil {
		// Never create an empty outbox by mistyping its path.
		return nil, cli.Exit(exitOutboxUsage, fmt.Errorf("outbox %s: %w", f.path, err))
	}
	o, err := outbox.Open(f.path, kp, outbox.Options{Timeout: 2 * time.Second})
	switch {
	case err == nil:
		return o, nil
	case errors.Is(err, outbox.ErrLocked):
		return nil, cli.Exit(exitOutboxBusy, fmt.Errorf("%w: outbox is in use (is checkpointd running?)", err))
	case errors.Is(err, seal.ErrWrongKey), errors.Is(err, seal.ErrNoKey), errors.Is(err, seal.ErrKeyPermissions), errors.Is(err, seal.ErrKeyFormat):
		return nil, cli.Exit(exitOutboxUsage, err)
	}
	return nil, err
}

func newOutboxStatusCmd(f *outboxFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Queue depth, hits, size, oldest record, evictions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st outbox.Status
			ok, err := f.fromDaemon(cmd, "/v1/outbox", &st)
			if err != nil {
				return err
			}
			if !ok {
				o, err := f.open()
				if err != nil {
					return err
				}
				st = o.Status()
				o.Close()
			}
			w := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(w, st)
			}
			fmt.Fprintf(w, "unit      %s\n", st.Unit)
			fmt.Fprintf(w, "queued    %d (%d hits, %d routine), %s\n", st.Depth, st.Hits, st.Routine, outboxBytes(st.Bytes))
			if !st.Oldest.IsZero() {
				fmt.Fprintf(w, "oldest    %s (%s ago)\n", st.Oldest.Format(time.RFC3339), time.Since(st.Oldest).Round(time.Second))
			}
			fmt.Fprintf(w, "evicted   %d routine records (quota)\n", st.Evicted)
			return nil
		},
	}
}

func newOutboxListCmd(f *outboxFlags) *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "list",
		Short: "The queued records in upload order: key, kind, priority, age, size (never the contents)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 10000 {
				return cli.Exit(exitOutboxUsage, fmt.Errorf("--limit must be 1..10000"))
			}
			var got struct {
				Records []outbox.Listed `json:"records"`
			}
			ok, err := f.fromDaemon(cmd, fmt.Sprintf("/v1/outbox/records?limit=%d", limit), &got)
			if err != nil {
				return err
			}
			if !ok {
				o, err := f.open()
				if err != nil {
					return err
				}
				got.Records, err = o.List(limit)
				o.Close()
				if err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				for _, r := range got.Records {
					if err := cli.WriteJSONLine(w, r); err != nil {
						return err
					}
				}
				return nil
			}
			if len(got.Records) == 0 {
				fmt.Fprintln(w, "the outbox is empty")
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tKIND\tPRIORITY\tQUEUED\tSIZE")
			for _, r := range got.Records {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s ago\t%s\n", r.Key, r.Kind, r.Priority, time.Since(r.CreatedAt).Round(time.Second), outboxBytes(int64(r.Bytes)))
			}
			return tw.Flush()
		},
	}
	c.Flags().IntVar(&limit, "limit", 100, "at most this many records (1..10000)")
	return c
}

func newOutboxDrainCmd(f *outboxFlags) *cobra.Command {
	var hubURL, cert, key, ca string
	var batch int
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "drain",
		Short: "Upload everything to the hub now (mutual TLS), with progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if hubURL == "" || cert == "" || key == "" || ca == "" {
				return cli.Exit(exitOutboxUsage, errors.New("drain needs --hub, --cert, --key-file and --ca"))
			}
			tlsCfg, err := pki.ClientConfig(cert, key, ca)
			if err != nil {
				return cli.Exit(exitOutboxUsage, err)
			}
			o, err := f.open()
			if err != nil {
				return err
			}
			defer o.Close()
			up, err := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: hubURL, TLS: tlsCfg, MaxItems: batch, RequestTimeout: timeout})
			if err != nil {
				return cli.Exit(exitOutboxUsage, err)
			}
			defer up.Close()
			total := o.Status().Depth
			var bar *progressbar.ProgressBar
			if !jsonOutput(cmd) {
				bar = progressbar.NewOptions(total,
					progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription("uploading"),
					progressbar.OptionShowCount(),
					progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("results"),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }),
				)
			}
			n, derr := up.Drain(cmd.Context(), func(done, remaining int) {
				if bar != nil {
					bar.ChangeMax(done + remaining)
					bar.Set(done)
				}
			})
			if bar != nil {
				bar.Finish()
			}
			st := o.Status()
			out := struct {
				Uploaded  int    `json:"uploaded"`
				Remaining int    `json:"remaining"`
				Error     string `json:"error,omitempty"`
			}{n, st.Depth, ""}
			if derr != nil {
				out.Error = derr.Error()
			}
			w := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				cli.WriteJSONLine(w, out)
			} else {
				fmt.Fprintf(w, "uploaded %d, %d remaining\n", n, st.Depth)
			}
			switch {
			case derr == nil:
				return nil
			case errors.Is(derr, outbox.ErrHubUnavailable), errors.Is(derr, outbox.ErrHubRejected):
				return cli.Exit(exitOutboxHub, derr)
			case n > 0:
				return cli.Exit(exitOutboxPartial, derr)
			}
			return derr
		},
	}
	c.Flags().StringVar(&hubURL, "hub", "", "hub base URL, e.g. https://hq.example:8443")
	c.Flags().StringVar(&cert, "cert", "/etc/checkpoint/tls/unit.pem", "unit client certificate")
	c.Flags().StringVar(&key, "key-file", "/etc/checkpoint/tls/unit.key", "unit client private key")
	c.Flags().StringVar(&ca, "ca", "/etc/checkpoint/tls/ca.pem", "fleet CA (pinned)")
	c.Flags().IntVar(&batch, "batch", 500, "records per request")
	c.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "per-request timeout")
	return c
}

func newOutboxExportCmd(f *outboxFlags) *cobra.Command {
	var to []string
	var out, cert, key string
	c := &cobra.Command{
		Use:   "export",
		Short: "Write an encrypted, signed file of all queued results for hand-carry to HQ",
		Long: `Export writes every queued result into one file encrypted to
headquarters' age recipient(s) and signed with this unit's TLS certificate.
Records stay queued until the hub confirms an upload: importing the same file
twice, or uploading after an import, stores nothing twice.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(to) == 0 || out == "" {
				return cli.Exit(exitOutboxUsage, errors.New("export needs --to AGE_RECIPIENT and --out FILE"))
			}
			var recips []age.Recipient
			for _, s := range to {
				r, err := age.ParseX25519Recipient(s)
				if err != nil {
					return cli.Exit(exitOutboxUsage, fmt.Errorf("--to %q: %w", s, err))
				}
				recips = append(recips, r)
			}
			signer, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				return cli.Exit(exitOutboxUsage, fmt.Errorf("signing certificate: %w", err))
			}
			o, err := f.open()
			if err != nil {
				return err
			}
			defer o.Close()
			var n int
			err = atomicfile.Write(out, 0o600, func(w io.Writer) error {
				var err error
				n, err = o.Export(w, recips, signer)
				return err
			})
			if err != nil {
				return err
			}
			res := struct {
				Exported int    `json:"exported"`
				File     string `json:"file"`
			}{n, out}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), res)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "exported %d results to %s (they stay queued until the hub confirms an upload)\n", n, out)
			return err
		},
	}
	c.Flags().StringSliceVar(&to, "to", nil, "headquarters' age recipient (age1…), repeatable")
	c.Flags().StringVar(&out, "out", "", "file to write (mode 0600)")
	c.Flags().StringVar(&cert, "cert", "/etc/checkpoint/tls/unit.pem", "unit certificate that signs the export")
	c.Flags().StringVar(&key, "key-file", "/etc/checkpoint/tls/unit.key", "unit private key")
	return c
}

func outboxBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
