package main

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
)

func init() { rootCmd.AddCommand(newAuditCmd()) }

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the hash-chained audit log",
	}
	cmd.AddCommand(newAuditVerifyCmd())
	return cmd
}

// auditVerifyResult is `audit verify --json`: counts and hashes only, never
// an entry's fields.
type auditVerifyResult struct {
	Log        string `json:"log"`
	Entries    uint64 `json:"entries"`
	Head       string `json:"head"`
	OK         bool   `json:"ok"`
	BrokenAt   uint64 `json:"broken_at,omitempty"`
	Incomplete bool   `json:"incomplete_tail"`
	Error      string `json:"error,omitempty"`
	// HQ is the head headquarters last acknowledged (with --against-hq).
	HQ *audit.Acknowledged `json:"hq,omitempty"`
}

func newAuditVerifyCmd() *cobra.Command {
	var logPath, configPath, ackPath string
	var againstHQ bool
	cmd := &cobra.Command{
		Use:   "verify [--log PATH | --config FILE]",
		Short: "Verify every entry's hash and link; exit 1 when the chain is broken",
		Long: "Reads the audit log without changing or locking it (safe while checkpointd runs) and checks " +
			"each entry's sequence number, its link to the previous entry and its hash. Prints the number of " +
			"entries and the head hash (the anchor headquarters keeps); a broken chain names the first bad " +
			"entry and exits with status 1. An incomplete last line, left by a crash mid-write, is noted: " +
			"checkpointd cuts it off at its next start.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := logPath
			if path == "" {
				cfg, err := config.Load(configPath)
				if err != nil {
					return cli.Exit(2, fmt.Errorf("%w (or give --log PATH)", err))
				}
				path = cfg.Audit.Path
			}
			var ack *audit.Acknowledged
			if againstHQ {
				if ackPath == "" {
					ackPath = audit.AckPath(path)
				}
				a, err := audit.LoadAck(ackPath)
				if errors.Is(err, fs.ErrNotExist) {
					return cli.Exit(2, fmt.Errorf("no head acknowledged by headquarters at %s (the unit has not uploaded since anchoring began)", ackPath))
				}
				if err != nil {
					return cli.Exit(2, err)
				}
				ack = &a
			}
			var rep audit.Report
			var err error
			if ack != nil {
				rep, err = audit.VerifyAgainst(path, ack.Head)
			} else {
				rep, err = audit.Verify(path)
			}
			anchorErr := errors.Is(err, audit.ErrTruncated) || errors.Is(err, audit.ErrRewritten)
			if err != nil && !errors.Is(err, audit.ErrBroken) && !anchorErr {
				if errors.Is(err, fs.ErrNotExist) {
					return cli.Exit(2, fmt.Errorf("no audit log at %s", path))
				}
				return err
			}
			res := auditVerifyResult{Log: path, Entries: rep.Entries, Head: rep.Head, OK: err == nil, Incomplete: rep.Incomplete, HQ: ack}
			if err != nil {
				if !anchorErr {
					res.BrokenAt = rep.Entries + 1
				}
				res.Error = err.Error()
			}
			out := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				if werr := cli.WriteJSONLine(out, res); werr != nil {
					return werr
				}
			} else {
				fmt.Fprintf(out, "audit log %s\n", res.Log)
				switch {
				case res.OK && ack != nil:
					fmt.Fprintf(out, "entries  %d\nhead     %s\nOK: the chain is intact and extends the head headquarters acknowledged (entry %d, %s)\n",
						res.Entries, res.Head, ack.Head.Seq, ack.At.Format(time.RFC3339))
				case res.OK:
					fmt.Fprintf(out, "entries  %d\nhead     %s\nOK: the chain is intact\n", res.Entries, res.Head)
				case anchorErr:
					what := "TRUNCATED"
					if errors.Is(err, audit.ErrRewritten) {
						what = "REWRITTEN"
					}
					fmt.Fprintf(out, "entries  %d\nhead     %s\n%s: %s (headquarters acknowledged entry %d, hash %s, on %s)\n",
						res.Entries, res.Head, what, res.Error, ack.Head.Seq, ack.Head.Hash, ack.At.Format(time.RFC3339))
				default:
					fmt.Fprintf(out, "entries  %d verified before the break\nlast good %s\nBROKEN at entry %d: %s\n",
						res.Entries, res.Head, res.BrokenAt, res.Error)
				}
				if res.Incomplete {
					fmt.Fprintln(out, "note: the last line is incomplete (a crash during a write); checkpointd cuts it off when it next opens the log")
				}
			}
			if anchorErr {
				return cli.Exit(1, fmt.Errorf("audit log %s: %w", path, err))
			}
			if err != nil {
				return cli.Exit(1, fmt.Errorf("audit log %s: broken at entry %d", path, res.BrokenAt))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&logPath, "log", "", "audit log file (default: the config's audit.path)")
	cmd.Flags().StringVar(&configPath, "config", techDefaultConfig, "checkpointd's config")
	cmd.Flags().BoolVar(&againstHQ, "against-hq", false, "also check that the log passes through the last head headquarters acknowledged (cut or rewritten tails)")
	cmd.Flags().StringVar(&ackPath, "hq-head", "", "the acknowledged head file (default: the log's path + \".hq\", kept by checkpointd's uploader)")
	return cmd
}
