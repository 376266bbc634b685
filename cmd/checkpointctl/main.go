// Command checkpointctl is the technician's tool for a Checkpoint unit:
// MRZ tools, scanner and camera checks, watchlists, sync, outbox and keys.
//
// Each command tree lives in its own file and registers itself on rootCmd
// from an init function, so that subsystems can be added without touching
// this file.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
)

var rootCmd = &cobra.Command{
	Use:           "checkpointctl",
	Short:         "Technician's tool for Checkpoint border-control units",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func init() {
	rootCmd.PersistentFlags().Bool("json", false, "machine-readable output: one JSON object per line")
}

// jsonOutput reports whether --json was given anywhere on the command line.
func jsonOutput(cmd *cobra.Command) bool {
	v, _ := cmd.Flags().GetBool("json")
	return v
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := rootCmd.ExecuteContext(ctx)
	stop()
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	fmt.Fprintln(os.Stderr, "checkpointctl:", err)
	os.Exit(cli.ExitCode(err))
}
