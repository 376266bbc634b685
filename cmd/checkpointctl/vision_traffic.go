package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
)

func newVisionTrafficCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "traffic",
		Short: "Live 1:N score distribution at this unit and the alert rate the thresholds give",
		RunE: func(cmd *cobra.Command, args []string) error {
			return cli.Exit(2, errors.New("not yet"))
		},
	}
}
