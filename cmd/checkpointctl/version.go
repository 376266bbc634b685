package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/buildinfo"
	// Linked for their library versions (they register at init), as in
	// checkpointd: the versions printed are those of this binary.
	_ "github.com/checkpoint-edge/checkpoint/device/camera"
	_ "github.com/checkpoint-edge/checkpoint/vision/facedlib"
)

func init() {
	rootCmd.Version = buildinfo.Get().String()
	rootCmd.SetVersionTemplate("checkpointctl {{.Version}}\n")
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date, Go, OpenCV and dlib versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := buildinfo.Get()
			w := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				return json.NewEncoder(w).Encode(in)
			}
			fmt.Fprintf(w, "checkpointctl %s\n", in.Version)
			row := func(k, v string) {
				if v != "" {
					fmt.Fprintf(w, "  %-11s %s\n", k, v)
				}
			}
			commit := in.Commit
			if in.Modified {
				commit += " (built with uncommitted changes)"
			}
			row("commit", commit)
			row("commit time", in.CommitAt)
			row("built", in.BuiltAt)
			row("go", in.Go+" "+in.Platform)
			row("opencv", in.Libraries["opencv"])
			row("dlib", in.Libraries["dlib"])
			return nil
		},
	})
}
