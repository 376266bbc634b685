package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
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
	var caCert, caKey, cert, key string
	var days int
	var force bool
	c := &cobra.Command{
		Use:   "operator NAME",
		Short: "Issue a headquarters operator's client certificate (OU=operator, URI SAN checkpoint:operator:NAME)",
		Long: `An operator certificate reads every unit's results, the live hit feed and
the units' audit anchors (checkpointctl hq …). It cannot upload results, and
no unit certificate can act as an operator.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if err := pki.ValidUnitID(id); err != nil {
				return cli.Exit(2, err)
			}
			if cert == "" {
				cert = id + ".pem"
			}
			if key == "" {
				key = id + ".key"
			}
			if err := refuseOverwrite(force, cert, key); err != nil {
				return err
			}
			ca, err := pki.LoadCA(caCert, caKey)
			if err != nil {
				return cli.Exit(2, err)
			}
			iss, err := ca.IssueOperator(id, time.Duration(days)*24*time.Hour)
			if err != nil {
				return err
			}
			if err := iss.WriteFiles(cert, key); err != nil {
				return err
			}
			return printIssued(cmd, "operator", iss.Cert, cert, key)
		},
	}
	caFlags(c, &caCert, &caKey)
	c.Flags().StringVar(&cert, "cert", "", "where to write the certificate (default NAME.pem)")
	c.Flags().StringVar(&key, "key-file", "", "where to write the private key, 0600 (default NAME.key)")
	c.Flags().IntVar(&days, "days", 365, "validity in days")
	c.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	return c
}
