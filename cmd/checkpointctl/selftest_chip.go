package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/chip"
	"github.com/checkpoint-edge/checkpoint/device/chip/pcsc"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
)

// chipReader checks that pcscd answers and the configured reader is
// there, the way the daemon finds it. pcscd shares readers, so a running
// daemon does not keep this check from running.
func (st *selftest) chipReader(ctx context.Context) (string, string) {
	c := st.cfg.Chip
	if !c.Enabled {
		return stSkip("chip reader disabled in the config")
	}
	r, err := chip.Open(chip.Config{Socket: c.Socket, Reader: c.Reader}, nil)
	if err != nil {
		return stFail("%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, st.opts.chipWait)
	defer cancel()
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() { r.Close(); <-done }()
	socket := c.Socket
	if socket == "" {
		socket = pcsc.SocketPath()
	}
	for {
		s := r.State()
		if s.Healthy() {
			card := "no card on it"
			if s.CardPresent {
				card = "a card is on it"
			}
			return stPass("%q through pcscd at %s; %s", s.Reader, socket, card)
		}
		select {
		case <-ctx.Done():
			// Ask pcscd directly: the reader's state says "not connected"
			// both when pcscd is silent and when the named reader is absent.
			if names, err := listReaders(socket); err == nil {
				return stFail("pcscd answers at %s but %s (readers: %s)", socket, noReader(c.Reader), names)
			}
			return stFail("pcscd does not answer at %s within %v: %s (is pcscd installed and its socket active? systemctl status pcscd.socket)",
				socket, st.opts.chipWait, r.State().LastError)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func noReader(want string) string {
	if want == "" {
		return "no reader is plugged in"
	}
	return "no reader's name contains " + `"` + want + `"`
}

// listReaders lists the readers pcscd knows, for the technician ("none"
// when it knows none); an error means pcscd did not answer.
func listReaders(socket string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := pcsc.Dial(ctx, socket)
	if err != nil {
		return "", err
	}
	defer cl.Close()
	rs, err := cl.Readers(ctx)
	if err != nil {
		return "", err
	}
	if len(rs) == 0 {
		return "none", nil
	}
	var names []string
	for _, r := range rs {
		names = append(names, `"`+r.Name+`"`)
	}
	return strings.Join(names, ", "), nil
}

// chipTrust reads the trust file as the daemon does.
func (st *selftest) chipTrust() (string, string) {
	c := st.cfg.Chip
	if !c.Enabled {
		return stSkip("chip reader disabled in the config")
	}
	b, err := os.ReadFile(c.Trust)
	if errors.Is(err, os.ErrNotExist) {
		return stSkip("no trust file at %s yet: every chip will be \"not verified\" (checkpointctl chip trust import FILE)", c.Trust)
	}
	if err != nil {
		return stFail("%v", err)
	}
	set, _, err := pa.Parse(b)
	if err != nil {
		return stFail("%s: %v", c.Trust, err)
	}
	store := pa.NewStore()
	if err := store.InstallTrust(set); err != nil {
		return stFail("%s: %v", c.Trust, err)
	}
	now := time.Now()
	expired, stale := 0, 0
	for _, cert := range set.CSCAs {
		if now.After(cert.NotAfter) {
			expired++
		}
	}
	for _, crl := range set.CRLs {
		if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
			stale++
		}
	}
	return stPass("%s: %d CSCAs of %d countries (%d expired), %d CRLs (%d past their next update)",
		c.Trust, len(set.CSCAs), len(store.Summary()), expired, len(set.CRLs), stale)
}
