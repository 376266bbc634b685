package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"filippo.io/age"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

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
	path, key string
}

func newOutboxCmd() *cobra.Command {
	f := &outboxFlags{}
	c := &cobra.Command{
		Use:   "outbox",
		Short: "Inspect, upload or hand-carry the queue of results for headquarters",
		Long: `The outbox holds every result until headquarters confirms it. It is
locked while checkpointd runs: stop the daemon first (or read its /metrics).`,
	}
	c.PersistentFlags().StringVar(&f.path, "outbox", "/var/lib/checkpoint/outbox.db", "outbox database")
	c.PersistentFlags().StringVar(&f.key, "key", "credential:outbox.kek", "key-encryption key (file:PATH, credential:NAME, env:VAR)")
	c.AddCommand(newOutboxStatusCmd(f), newOutboxDrainCmd(f), newOutboxExportCmd(f))
	return c
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
			o, err := f.open()
			if err != nil {
				return err
			}
			defer o.Close()
			st := o.Status()
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
