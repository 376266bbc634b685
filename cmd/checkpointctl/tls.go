package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

func init() { keysCmd.AddCommand(newTLSCmd()) }

// tlsIssued is what keys tls commands print.
type tlsIssued struct {
	Kind     string    `json:"kind"`
	Subject  string    `json:"subject"`
	Cert     string    `json:"cert"`
	Key      string    `json:"key"`
	NotAfter time.Time `json:"not_after"`
	SHA256   string    `json:"sha256"`
}

func newTLSCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "tls",
		Short: "Fleet mutual-TLS certificates: CA, hub server, unit clients",
		Long: `Create the fleet CA, the hub's server certificate and one client
certificate per unit. Keys are ECDSA P-256, written with mode 0600; existing
files are never overwritten unless --force is given. Keep the CA key off the
units.`,
	}
	c.AddCommand(newTLSCACmd(), newTLSServerCmd(), newTLSUnitCmd())
	return c
}

func newTLSCACmd() *cobra.Command {
	var cert, key, cn string
	var days int
	var force bool
	c := &cobra.Command{
		Use:   "ca",
		Short: "Create the fleet CA (certificate + key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseOverwrite(force, cert, key); err != nil {
				return err
			}
			ca, err := pki.NewCA(cn, time.Duration(days)*24*time.Hour)
			if err != nil {
				return err
			}
			if err := ca.WriteFiles(cert, key); err != nil {
				return err
			}
			return printIssued(cmd, "ca", ca.Cert, cert, key)
		},
	}
	c.Flags().StringVar(&cert, "cert", "ca.pem", "where to write the CA certificate")
	c.Flags().StringVar(&key, "key-file", "ca.key", "where to write the CA private key (0600)")
	c.Flags().StringVar(&cn, "cn", "Checkpoint fleet CA", "CA common name")
	c.Flags().IntVar(&days, "days", int(pki.DefaultCAValidity/(24*time.Hour)), "validity in days")
	c.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	return c
}

func newTLSServerCmd() *cobra.Command {
	var caCert, caKey, cert, key string
	var names []string
	var days int
	var force bool
	c := &cobra.Command{
		Use:   "server",
		Short: "Issue the hub's server certificate (SANs: localhost, 127.0.0.1, ::1 and --name)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseOverwrite(force, cert, key); err != nil {
				return err
			}
			ca, err := pki.LoadCA(caCert, caKey)
			if err != nil {
				return cli.Exit(2, err)
			}
			iss, err := ca.IssueServer(names, time.Duration(days)*24*time.Hour)
			if err != nil {
				return err
			}
			if err := iss.WriteFiles(cert, key); err != nil {
				return err
			}
			return printIssued(cmd, "server", iss.Cert, cert, key)
		},
	}
	caFlags(c, &caCert, &caKey)
	c.Flags().StringSliceVar(&names, "name", nil, "extra DNS name or IP address (repeatable)")
	c.Flags().StringVar(&cert, "cert", "hub.pem", "where to write the server certificate")
	c.Flags().StringVar(&key, "key-file", "hub.key", "where to write the server private key (0600)")
	c.Flags().IntVar(&days, "days", int(pki.DefaultServerValidity/(24*time.Hour)), "validity in days")
	c.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	return c
}

func newTLSUnitCmd() *cobra.Command {
	return newTLSClientCmd(&cobra.Command{
		Use:   "unit UNIT_ID",
		Short: "Issue a unit's client certificate (CN and URI SAN checkpoint:unit:UNIT_ID)",
	}, "unit", pki.DefaultUnitValidity, (*pki.CA).IssueUnit)
}

// newTLSClientCmd completes c as a command that issues a client
// certificate of kind for the id given as its argument.
func newTLSClientCmd(c *cobra.Command, kind string, validity time.Duration, issue func(*pki.CA, string, time.Duration) (*pki.Issued, error)) *cobra.Command {
	var caCert, caKey, cert, key string
	var days int
	var force bool
	c.Args = cobra.ExactArgs(1)
	c.RunE = func(cmd *cobra.Command, args []string) error {
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
		iss, err := issue(ca, id, time.Duration(days)*24*time.Hour)
		if err != nil {
			return err
		}
		if err := iss.WriteFiles(cert, key); err != nil {
			return err
		}
		return printIssued(cmd, kind, iss.Cert, cert, key)
	}
	caFlags(c, &caCert, &caKey)
	c.Flags().StringVar(&cert, "cert", "", "where to write the "+kind+" certificate (default <id>.pem)")
	c.Flags().StringVar(&key, "key-file", "", "where to write the "+kind+" private key, 0600 (default <id>.key)")
	c.Flags().IntVar(&days, "days", int(validity/(24*time.Hour)), "validity in days")
	c.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	return c
}

func caFlags(c *cobra.Command, cert, key *string) {
	c.Flags().StringVar(cert, "ca", "ca.pem", "fleet CA certificate")
	c.Flags().StringVar(key, "ca-key", "ca.key", "fleet CA private key")
}

// refuseOverwrite keeps a typo from replacing a CA or unit key in use.
func refuseOverwrite(force bool, paths ...string) error {
	if force {
		return nil
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return cli.Exit(2, fmt.Errorf("%s exists: refusing to overwrite (use --force)", p))
		}
	}
	return nil
}

func printIssued(cmd *cobra.Command, kind string, c *x509.Certificate, cert, key string) error {
	sum := sha256.Sum256(c.Raw)
	out := tlsIssued{
		Kind:     kind,
		Subject:  c.Subject.CommonName,
		Cert:     cert,
		Key:      key,
		NotAfter: c.NotAfter.UTC(),
		SHA256:   hex.EncodeToString(sum[:]),
	}
	w := cmd.OutOrStdout()
	if jsonOutput(cmd) {
		return cli.WriteJSONLine(w, out)
	}
	_, err := fmt.Fprintf(w, "%s certificate %q written to %s (key %s, mode 0600)\nvalid until %s\nsha256 %s\n",
		kind, out.Subject, cert, key, out.NotAfter.Format(time.RFC3339), out.SHA256)
	return err
}
