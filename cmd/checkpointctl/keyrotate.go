package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/internal/sealdb"
	"github.com/checkpoint-edge/checkpoint/internal/unit"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxstore"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

const (
	exitRotateUsage = 2 // bad flags, config or key
	exitRotateWrong = 3 // the old key does not open the file
	exitRotateBusy  = 4 // checkpointd holds the file
)

func init() { keysCmd.AddCommand(newRotateCmd()) }

// rotateReport is what keys rotate prints.
type rotateReport struct {
	Store  string `json:"store"`
	Path   string `json:"path"`
	OldKey string `json:"old_key"`
	NewKey string `json:"new_key"`
	Config string `json:"config_key"` // the config's key setting, to update
}

func newRotateCmd() *cobra.Command {
	var configPath, oldSpec, newSpec string
	var generate bool
	cmd := &cobra.Command{
		Use:   "rotate (watchlist|outbox) --new-key SPEC [--generate]",
		Short: "Re-wrap a store's data key under a new key-encryption key (checkpointd stopped)",
		Long: `Re-wraps the data key of the unit's watchlist or outbox under a new
key-encryption key. Records are not re-encrypted, so it takes a moment at
any size; queued results are kept. Stop checkpointd first: it holds the
files. The operation is recorded in the unit's audit log. The stores that
share a key rotate together: the officer's work queue with the outbox; the
channel store (trust anchors, alerts, pre-arrival lists) and the API/PNR
store with the watchlist, unless the config gives them keys of their own.

Keys are file:PATH, credential:NAME or env:VAR. The old key is the
config's (watchlist.key / outbox.key); a systemd credential is only
readable inside the service, so either run this through
  systemd-run --pipe --wait -p LoadCredentialEncrypted=NAME:/etc/credstore.encrypted/NAME checkpointctl keys rotate …
or give --old-key. --generate creates the new key file (0600).

Afterwards, install the new key where the config expects it (for a
credential: systemd-creds encrypt --name=NAME NEWKEY /etc/credstore.encrypted/NAME),
destroy the old one, and start checkpointd.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"watchlist", "outbox"},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return cli.Exit(exitRotateUsage, err)
			}
			rep := rotateReport{Store: args[0]}
			switch args[0] {
			case "watchlist":
				rep.Path, rep.Config = cfg.Watchlist.Path, cfg.Watchlist.Key
			case "outbox":
				rep.Path, rep.Config = cfg.Outbox.Path, cfg.Outbox.Key
			default:
				return cli.Exit(exitRotateUsage, fmt.Errorf("unknown store %q: want watchlist or outbox", args[0]))
			}
			if oldSpec == "" {
				oldSpec = rep.Config
			}
			oldKP, err := seal.ParseProvider(oldSpec)
			if err != nil {
				return cli.Exit(exitRotateUsage, fmt.Errorf("old key: %w", err))
			}
			if newSpec == "" {
				return cli.Exit(exitRotateUsage, errors.New("--new-key is required"))
			}
			newKP, err := seal.ParseProvider(newSpec)
			if err != nil {
				return cli.Exit(exitRotateUsage, fmt.Errorf("--new-key: %w", err))
			}
			if strings.HasPrefix(newSpec, "env:") && cfg.Unit.Mode == "egate" {
				return cli.Exit(exitRotateUsage, errors.New("--new-key: env: keys are for tests only"))
			}
			rep.OldKey, rep.NewKey = oldKP.String(), newKP.String()
			if _, err := os.Stat(rep.Path); err != nil {
				return cli.Exit(exitRotateUsage, fmt.Errorf("%s store: %w", args[0], err))
			}
			if generate {
				fk, ok := newKP.(seal.FileKey)
				if !ok {
					return cli.Exit(exitRotateUsage, errors.New("--generate needs --new-key file:PATH"))
				}
				if err := seal.GenerateKeyFile(fk.Path); err != nil {
					return cli.Exit(exitRotateUsage, err)
				}
			}
			if _, err := newKP.KEK(); err != nil {
				return cli.Exit(exitRotateUsage, fmt.Errorf("--new-key %s: %w", newKP, err))
			}
			if oldSpec == newSpec {
				return cli.Exit(exitRotateUsage, errors.New("the new key is the old one"))
			}
			// Recorded before and after: an attempt that dies half-way still
			// leaves a trace.
			ta, err := openTechAuditAt(cfg.Audit.Path)
			if err != nil {
				return cli.Exit(exitRotateUsage, err)
			}
			defer ta.Close()
			fields := map[string]string{"store": rep.Store, "old_key": rep.OldKey, "new_key": rep.NewKey}
			if err := ta.record(audit.KindKeyOperation, "kek_rotation_started", fields); err != nil {
				return err
			}
			files := []storeFile{{args[0], rep.Path}}
			if pp := unit.PendingPath(cfg.StateDir); args[0] == "outbox" && fileExists(pp) {
				// The officer's work queue shares the outbox's key.
				files = append(files, storeFile{"work queue", pp})
			}
			// The channel store (trust anchors, alerts, pre-arrival lists)
			// and the API/PNR store share the watchlist's key unless the
			// config gives them their own: rotating one without the others
			// would leave them unreadable at the next start.
			if args[0] == "watchlist" {
				if cfg.Channels.Key == "" && fileExists(cfg.Channels.Path) {
					files = append(files, storeFile{"channels", cfg.Channels.Path})
				}
				if cfg.Paxdata.Key == "" && cfg.Paxdata.Path != "" && fileExists(cfg.Paxdata.Path) {
					files = append(files, storeFile{"paxdata", cfg.Paxdata.Path})
				}
			}
			err = rotateStores(files, oldKP, newKP)
			if err != nil {
				ta.record(audit.KindKeyOperation, "kek_rotation_failed", fields)
				return err
			}
			if err := ta.record(audit.KindKeyOperation, "kek_rotated", fields); err != nil {
				return err
			}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), rep)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s store %s now opens with %s only.\n", rep.Store, rep.Path, rep.NewKey)
			if rep.Config != rep.NewKey {
				fmt.Fprintf(out, "Next: put the new key where the config's %s.key (%s) points, destroy the old key, then start checkpointd.\n", rep.Store, rep.Config)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", techDefaultConfig, "checkpointd's config")
	cmd.Flags().StringVar(&oldSpec, "old-key", "", "current key (default: the config's)")
	cmd.Flags().StringVar(&newSpec, "new-key", "", "new key: file:PATH, credential:NAME or env:VAR")
	cmd.Flags().BoolVar(&generate, "generate", false, "create the --new-key file first")
	return cmd
}

// storeFile is one file keys rotate re-wraps.
type storeFile struct{ store, path string }

// rotateStores re-wraps files that share a key and then proves each opens
// with the new key. All are opened with the old key first, so a busy unit
// or a wrong key changes none of them.
func rotateStores(files []storeFile, oldKP, newKP seal.KeyProvider) error {
	classify := func(path string, err error) error {
		switch {
		case errors.Is(err, outbox.ErrLocked), errors.Is(err, bolterrors.ErrTimeout), errors.Is(err, sealdb.ErrLocked),
			errors.Is(err, channel.ErrLocked), errors.Is(err, paxstore.ErrLocked):
			return cli.Exit(exitRotateBusy, fmt.Errorf("%s is in use: stop checkpointd first (systemctl stop checkpointd)", path))
		case errors.Is(err, seal.ErrWrongKey):
			return cli.Exit(exitRotateWrong, fmt.Errorf("%s: the old key does not open it: %w", path, err))
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
			return cli.Exit(exitRotateUsage, err)
		}
		return err
	}
	const wait = 2 * time.Second
	open := func(f storeFile, kp seal.KeyProvider, readOnly bool) (rotatable, error) {
		switch f.store {
		case "watchlist":
			return watchlist.Open(f.path, kp, watchlist.Options{Timeout: wait, ReadOnly: readOnly})
		case "work queue":
			return unit.OpenPendingStore(f.path, kp)
		case "channels":
			return channel.Open(f.path, kp, channel.Options{Timeout: wait})
		case "paxdata":
			return paxstore.Open(f.path, kp, paxstore.Options{Timeout: wait})
		}
		return outbox.Open(f.path, kp, outbox.Options{Timeout: wait})
	}
	var opened []rotatable
	closeAll := func() error {
		var errs []error
		for _, s := range opened {
			errs = append(errs, s.Close())
		}
		opened = nil
		return errors.Join(errs...)
	}
	for _, f := range files {
		s, err := open(f, oldKP, false)
		if err != nil {
			closeAll()
			return classify(f.path, err)
		}
		opened = append(opened, s)
	}
	for i, s := range opened {
		if err := s.RotateKEK(newKP); err != nil {
			closeAll()
			return classify(files[i].path, err)
		}
	}
	if err := closeAll(); err != nil {
		return err
	}
	for _, f := range files {
		s, err := open(f, newKP, true)
		if err != nil {
			return fmt.Errorf("%s does not open with the new key after rotation: %w", f.path, err)
		}
		if err := s.Close(); err != nil {
			return err
		}
	}
	return nil
}

// rotatable is what the watchlist store and the outbox share for rotation.
type rotatable interface {
	RotateKEK(seal.KeyProvider) error
	Close() error
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
