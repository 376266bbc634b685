package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/watchlist/lists"
)

// isListSources reports whether every source is a list spec (un:, ofac:,
// csl:); a mix of lists and plain files is refused by the caller.
func isListSources(srcs []string) bool {
	n := 0
	for _, s := range srcs {
		if lists.IsSpec(s) {
			n++
		}
	}
	return n > 0
}

// buildListSnapshot imports the lists named by srcs and reports the import
// on stderr (or into reportPath as JSON; "prev" reports go to stderr only).
func buildListSnapshot(cmd *cobra.Command, srcs []string, opts lists.Options, reportPath, what string) (*lists.Snapshot, error) {
	var specs []lists.Spec
	for _, s := range srcs {
		sp, err := lists.ParseSpec(s)
		if err != nil {
			return nil, cli.Exit(2, fmt.Errorf("--%s: %w (lists and plain files cannot be mixed)", what, err))
		}
		specs = append(specs, sp)
	}
	snap, err := lists.Build(specs, opts)
	if err != nil {
		return nil, cli.Exit(2, fmt.Errorf("--%s: %w", what, err))
	}
	if reportPath != "" && what == "from" {
		err := atomicfile.Write(reportPath, 0o644, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(&snap.Report)
		})
		if err != nil {
			return nil, err
		}
		return snap, nil
	}
	w := cmd.ErrOrStderr()
	if what == "prev" {
		fmt.Fprintln(w, "previous edition:")
	}
	snap.Report.WriteSummary(w)
	return snap, nil
}
