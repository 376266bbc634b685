package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
)

// newDemoPCSCDCmd runs the demo's private pcscd with the vpcd virtual
// reader until interrupted: the daemon reads chips through it, and `demo
// feed` lays the travellers' emulated chips on it.
func newDemoPCSCDCmd() *cobra.Command {
	var link, addrFile string
	c := &cobra.Command{
		Use:   "pcscd --link SOCKET --vpcd-file FILE",
		Short: "Run a private pcscd with a virtual chip reader for the demo (until interrupted)",
		Long: "Starts pcscd (Debian pcscd) with the vsmartcard vpcd driver on a free port, in a temporary directory, " +
			"links its socket at --link (what the demo's config names) and writes the virtual reader's address to " +
			"--vpcd-file for `demo feed --vpcd`. The system's own pcscd is not touched.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if link == "" || addrFile == "" {
				return cli.Exit(2, errors.New("--link and --vpcd-file are required"))
			}
			srv, err := pcsctest.Start(pcsctest.Options{})
			if err != nil {
				return err
			}
			defer srv.Stop()
			os.Remove(link)
			if err := os.Symlink(srv.SocketPath, link); err != nil {
				return err
			}
			defer os.Remove(link)
			if err := atomicfile.WriteFile(addrFile, []byte(srv.VPCDAddr+"\n"), 0o644); err != nil {
				return err
			}
			defer os.Remove(addrFile)
			fmt.Fprintf(cmd.OutOrStdout(), "pcscd: reader %q, vpcd at %s, socket %s\n", srv.Reader, srv.VPCDAddr, link)
			select {
			case <-cmd.Context().Done():
			case <-srv.Done():
				return fmt.Errorf("pcscd exited:\n%s", srv.Log())
			}
			return nil
		},
	}
	c.Flags().StringVar(&link, "link", "", "where to link pcscd's socket")
	c.Flags().StringVar(&addrFile, "vpcd-file", "", "where to write the virtual reader's address")
	return c
}
