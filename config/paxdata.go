package config

import (
	"fmt"
	"time"
)

// Paxdata configures pre-arrival screening on the unit (package paxdata):
// API/PNR messages dropped in an inbox, or handed over by `checkpointctl
// paxdata screen`, are screened against the local watchlist, and the
// alerts (with those the hub sends in the prearrival channel) reach the
// lane.
type Paxdata struct {
	// Inbox is a directory watched for PAXLST/PNRGOV files; empty: none.
	// Files are deleted once screened (their data is kept encrypted).
	Inbox string `yaml:"inbox"`
	// Path is the encrypted store (default <state_dir>/paxdata.db); Key
	// its key-encryption key (empty: watchlist.key).
	Path string `yaml:"path"`
	Key  string `yaml:"key"`
	// ScanInterval is how often the inbox is looked at (default 10s).
	ScanInterval Duration `yaml:"scan_interval"`
	// MaxFileBytes bounds one file (default 16 MiB).
	MaxFileBytes int64 `yaml:"max_file_bytes"`
	// Grace keeps a flight's alerts at the desk this long after its
	// arrival (default 6h).
	Grace Duration `yaml:"grace"`
	// Retention of the stored data.
	Retention PaxRetention `yaml:"retention"`
}

// PaxRetention is how long passenger data is kept: API (default 24h after
// the arrival) deleted; PNR depersonalised (default 6 months after
// receipt) and deleted (default 5 years).
type PaxRetention struct {
	API              Duration `yaml:"api"`
	PNRDepersonalise Duration `yaml:"pnr_depersonalise"`
	PNRDelete        Duration `yaml:"pnr_delete"`
}

// PaxdataKey is the paxdata store's key provider spec.
func (c *Config) PaxdataKey() string {
	if c.Paxdata.Key != "" {
		return c.Paxdata.Key
	}
	return c.Watchlist.Key
}

func (c *Config) validatePaxdata() []error {
	var errs []error
	p := c.Paxdata
	neg := func(field string, d time.Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("paxdata.%s: must not be negative", field))
		}
	}
	neg("scan_interval", p.ScanInterval.D())
	neg("grace", p.Grace.D())
	neg("retention.api", p.Retention.API.D())
	neg("retention.pnr_depersonalise", p.Retention.PNRDepersonalise.D())
	neg("retention.pnr_delete", p.Retention.PNRDelete.D())
	if p.MaxFileBytes < 0 {
		errs = append(errs, fmt.Errorf("paxdata.max_file_bytes: must not be negative"))
	}
	if d, del := p.Retention.PNRDepersonalise.D(), p.Retention.PNRDelete.D(); d > 0 && del > 0 && del < d {
		errs = append(errs, fmt.Errorf("paxdata.retention: pnr_delete (%v) before pnr_depersonalise (%v)", del, d))
	}
	if p.Inbox != "" && p.Inbox == c.StateDir {
		errs = append(errs, fmt.Errorf("paxdata.inbox: must be its own directory (files there are deleted once screened)"))
	}
	return errs
}
