package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// The operator command joins `keys tls` (registered in tls.go, which
// this file's init follows).
func init() {
	for _, c := range keysCmd.Commands() {
		if c.Name() == "tls" {
			c.AddCommand(newTLSOperatorCmd())
		}
	}
}

func newTLSOperatorCmd() *cobra.Command {
	return newTLSClientCmd(&cobra.Command{
		Use:   "operator NAME",
		Short: "Issue a headquarters operator's client certificate (OU=operator, URI SAN checkpoint:operator:NAME)",
		Long: `An operator certificate reads every unit's results, the live hit feed and
the units' audit anchors (checkpointctl hq …). It cannot upload results, and
no unit certificate can act as an operator.`,
	}, "operator", 365*24*time.Hour, (*pki.CA).IssueOperator)
}
