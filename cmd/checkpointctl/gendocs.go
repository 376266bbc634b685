package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// The package build (make deb) generates checkpointctl's man pages from
// the command tree, so they cannot fall behind the commands.
func init() {
	c := &cobra.Command{
		Use:    "gen-man DIR",
		Short:  "Write man pages for every command into DIR (used by make deb)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			hdr := &doc.GenManHeader{Title: "CHECKPOINTCTL", Section: "1", Source: "Checkpoint", Manual: "Checkpoint technician's manual"}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			if err := doc.GenManTree(root, hdr, dir); err != nil {
				return err
			}
			n, _ := filepath.Glob(filepath.Join(dir, "*.1"))
			fmt.Fprintf(cmd.OutOrStdout(), "%d man pages in %s\n", len(n), dir)
			return nil
		},
	}
	rootCmd.AddCommand(c)
}
