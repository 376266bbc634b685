package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/web"
)

const (
	exitSignInUsage   = 2 // no socket configured
	exitSignInRefused = 3 // this OS user is not an officer
	exitSignInDown    = 4 // the daemon does not answer
)

func newOfficerSignInCmd(f *officerFlags) *cobra.Command {
	var socket string
	cmd := &cobra.Command{
		Use:   "signin [--socket PATH]",
		Short: "Sign in to the officer page as the OS user running this command",
		Long: `Asks checkpointd, over its sign-in socket (web.signin_socket), for a
one-time link that opens the officer page signed in as the officer mapped
to the OS user running this command (officer add --os-user). The kernel
tells the daemon who is asking; no PIN is typed. The link works once,
within a minute. Prints the link, so a kiosk session can run:
  chromium --app="$(checkpointctl officer signin)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if socket == "" {
				cfg, err := config.Load(f.config)
				if err != nil {
					return cli.Exit(exitSignInUsage, fmt.Errorf("%w (or give --socket)", err))
				}
				if socket = cfg.Web.SignInSocket; socket == "" {
					return cli.Exit(exitSignInUsage, fmt.Errorf("config %s has no web.signin_socket: OS-user sign-in is off", f.config))
				}
			}
			tk, err := requestSignIn(cmd.Context(), socket)
			if err != nil {
				return err
			}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), tk)
			}
			fmt.Fprintln(cmd.OutOrStdout(), tk.URL)
			fmt.Fprintf(cmd.ErrOrStderr(), "signed in as officer %s: open the link within %s\n", tk.Officer, time.Until(tk.Expires).Round(time.Second))
			return nil
		},
	}
	cmd.Flags().StringVar(&socket, "socket", "", "sign-in socket (default: the config's web.signin_socket)")
	return cmd
}

func requestSignIn(ctx context.Context, socket string) (web.SignInTicket, error) {
	var tk web.SignInTicket
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://checkpointd/v1/signin", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return tk, cli.Exit(exitSignInDown, fmt.Errorf("sign-in socket %s: %w (is checkpointd running, and are you in its group?)", socket, err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = resp.Status
		}
		return tk, cli.Exit(exitSignInRefused, errors.New(e.Error))
	}
	if err := json.Unmarshal(body, &tk); err != nil {
		return tk, fmt.Errorf("sign-in socket: bad answer: %w", err)
	}
	return tk, nil
}
