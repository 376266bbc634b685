package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"syscall"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/config"
)

// techAudit records what a technician changes on a unit (keys, officer
// accounts, the root of trust) in the unit's audit log, beside what the
// daemon records: audit.Log keeps one chain for several writers.
type techAudit struct {
	log   *audit.Log
	actor string
}

// openTechAudit opens the audit log named by the config at configPath.
// When required (the config was asked for explicitly, or the change is to
// the unit's own state) a config or log that cannot be opened stops the
// command before it changes anything; otherwise the change goes ahead and
// warn is told it was not recorded.
func openTechAudit(configPath string, required bool, warn io.Writer) (*techAudit, error) {
	cfg, err := config.Load(configPath)
	if err != nil {
		if required {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		fmt.Fprintf(warn, "note: not recorded in an audit log (no usable config at %s)\n", configPath)
		return nil, nil
	}
	return openTechAuditAt(cfg.Audit.Path)
}

func openTechAuditAt(path string) (*techAudit, error) {
	_, statErr := os.Stat(path)
	l, res, err := audit.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %w (the change was not made)", path, err)
	}
	if errors.Is(statErr, fs.ErrNotExist) && res.Entries == 0 {
		// Created by a technician running as root: hand it to the owner of
		// the state directory, or the daemon could not append to it.
		if st, err := os.Stat(filepath.Dir(path)); err == nil {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok {
				os.Chown(path, int(sys.Uid), int(sys.Gid))
			}
		}
	}
	return &techAudit{log: l, actor: technician()}, nil
}

// technician names the person at the keyboard: the login behind sudo, else
// the current user. Staff accounts are not traveller data.
func technician() string {
	if u := os.Getenv("SUDO_USER"); u != "" {
		return "technician:" + u
	}
	if u, err := user.Current(); err == nil {
		return "technician:" + u.Username
	}
	return fmt.Sprintf("technician:uid-%d", os.Getuid())
}

// record appends one entry; a nil techAudit records nothing.
func (a *techAudit) record(kind, action string, fields map[string]string) error {
	if a == nil {
		return nil
	}
	if _, err := a.log.Append(kind, a.actor, action, fields); err != nil {
		return fmt.Errorf("the change was made but not recorded in the audit log: %w", err)
	}
	return nil
}

func (a *techAudit) Close() error {
	if a == nil {
		return nil
	}
	return a.log.Close()
}
