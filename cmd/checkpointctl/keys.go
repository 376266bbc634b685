package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
)

// keysCmd groups key management; other files add subcommands (keys tls).
var keysCmd = &cobra.Command{
	Use:   "keys",
	Short: "Signing keys, unit decryption keys, the root of trust (and TLS)",
}

func init() {
	keysCmd.AddCommand(newSigningCmd(), newUnitKeyCmd(), newRootCmd())
	rootCmd.AddCommand(keysCmd)
}

// keyInfo is what key-creating commands print.
type keyInfo struct {
	Kind      string `json:"kind"`
	Path      string `json:"path"`
	KeyID     string `json:"key_id,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
	Recipient string `json:"recipient,omitempty"`
}

func newSigningCmd() *cobra.Command {
	c := &cobra.Command{Use: "signing", Short: "Issuing-authority (bundle signing) keys, Ed25519"}
	var out string
	newCmd := &cobra.Command{
		Use:   "new --out KEY",
		Short: "Create a signing key (KEY, 0600) and its public key (KEY.pub)",
		Long: `Create an Ed25519 issuing-authority key. The private key is PKCS#8 PEM
with mode 0600; KEY.pub holds the public key to list in the root of trust
(keys root add-signer --signer KEY.pub). An existing file is never
overwritten.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return cli.Exit(2, errors.New("--out is required"))
			}
			k, err := trust.GenerateKey()
			if err != nil {
				return err
			}
			if err := trust.WritePrivateKey(out, k); err != nil {
				return err
			}
			pub := k.Public().(ed25519.PublicKey)
			info := keyInfo{Kind: "signing", Path: out, KeyID: trust.KeyID(pub), PublicKey: trust.EncodePublicKey(pub)}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), info)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "signing key %s written to %s (public key in %s.pub)\nkey id:     %s\npublic key: %s\n",
				info.KeyID, out, out, info.KeyID, info.PublicKey)
			return nil
		},
	}
	newCmd.Flags().StringVar(&out, "out", "", "private key file to create")
	c.AddCommand(newCmd)
	return c
}

func newUnitKeyCmd() *cobra.Command {
	c := &cobra.Command{Use: "unit", Short: "Unit (or fleet) decryption keys for bundles, age X25519"}
	var out string
	newCmd := &cobra.Command{
		Use:   "new --out IDENTITY",
		Short: "Create an age identity (0600) and print its recipient",
		Long: `Create an age X25519 identity for a unit (or one shared by the fleet).
IDENTITY is written with mode 0600 in age's own format; IDENTITY.pub holds
the recipient ("age1…") to give to 'watchlist build --to'. On a unit the
identity can also be loaded as a systemd credential (--identity
credential:NAME).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return cli.Exit(2, errors.New("--out is required"))
			}
			if _, err := os.Stat(out); err == nil {
				return fmt.Errorf("%s exists: refusing to overwrite a key", out)
			}
			id, err := age.GenerateX25519Identity()
			if err != nil {
				return err
			}
			rcpt := id.Recipient().String()
			body := fmt.Sprintf("# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), rcpt, id.String())
			if err := atomicfile.WriteFile(out, []byte(body), 0o600); err != nil {
				return err
			}
			if err := atomicfile.WriteFile(out+".pub", []byte(rcpt+"\n"), 0o644); err != nil {
				return err
			}
			info := keyInfo{Kind: "unit", Path: out, Recipient: rcpt}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), info)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "identity written to %s\nrecipient: %s\n", out, rcpt)
			return nil
		},
	}
	newCmd.Flags().StringVar(&out, "out", "", "identity file to create")
	c.AddCommand(newCmd)
	return c
}

// rootSummary is what keys root commands print.
type rootSummary struct {
	Path      string          `json:"path"`
	Version   uint64          `json:"version"`
	IssuedAt  time.Time       `json:"issued_at"`
	Threshold int             `json:"threshold"`
	RootKeys  []trust.RootKey `json:"root_keys"`
	Signers   []signerStatus  `json:"signers"`
	// Signatures is how many valid root signatures the file carries.
	Complete bool `json:"complete"`
}

type signerStatus struct {
	trust.Signer
	Status string `json:"status"` // valid, expired, not_yet_valid, revoked
}

func summarizeRoot(path string, r *trust.Root, complete bool, now time.Time) rootSummary {
	s := rootSummary{Path: path, Version: r.Version, IssuedAt: r.IssuedAt, Threshold: r.Threshold, RootKeys: r.RootKeys, Complete: complete}
	for _, sg := range r.Signers {
		st := "valid"
		switch {
		case sg.Revoked:
			st = "revoked"
		case now.After(sg.NotAfter):
			st = "expired"
		case now.Before(sg.NotBefore):
			st = "not_yet_valid"
		}
		s.Signers = append(s.Signers, signerStatus{sg, st})
	}
	return s
}

func printRoot(cmd *cobra.Command, s rootSummary) error {
	if jsonOutput(cmd) {
		return cli.WriteJSONLine(cmd.OutOrStdout(), s)
	}
	w := cmd.OutOrStdout()
	state := "signed by the quorum"
	if !s.Complete {
		state = "PARTIALLY SIGNED: more root signatures needed (keys root sign)"
	}
	fmt.Fprintf(w, "trust file %s: version %d, %s\nroot keys (%d of %d must sign):\n", s.Path, s.Version, state, s.Threshold, len(s.RootKeys))
	for _, k := range s.RootKeys {
		fmt.Fprintf(w, "  %s  %s\n", k.KeyID, k.PublicKey)
	}
	fmt.Fprintf(w, "signers:\n")
	if len(s.Signers) == 0 {
		fmt.Fprintf(w, "  (none)\n")
	}
	for _, sg := range s.Signers {
		fmt.Fprintf(w, "  %s  %-14s %-13s %s .. %s\n", sg.KeyID, sg.Name, sg.Status,
			sg.NotBefore.Format(time.RFC3339), sg.NotAfter.Format(time.RFC3339))
	}
	return nil
}

// readRootKeys reads key files or base64 public keys; private keys are
// also returned for signing.
func readRootKeys(specs []string) ([]ed25519.PublicKey, []ed25519.PrivateKey, error) {
	var pubs []ed25519.PublicKey
	var privs []ed25519.PrivateKey
	for _, s := range specs {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if b, err := os.ReadFile(s); err == nil && strings.Contains(string(b), "PRIVATE KEY") {
			clear(b)
			priv, err := trust.ReadPrivateKey(s)
			if err != nil {
				return nil, nil, err
			}
			privs = append(privs, priv)
			pubs = append(pubs, priv.Public().(ed25519.PublicKey))
			continue
		}
		pub, err := trust.ReadPublicKey(s)
		if err != nil {
			return nil, nil, fmt.Errorf("root key %s: %w", s, err)
		}
		pubs = append(pubs, pub)
	}
	return pubs, privs, nil
}

func readSigningKeys(paths []string) ([]ed25519.PrivateKey, error) {
	var out []ed25519.PrivateKey
	for _, p := range paths {
		k, err := trust.ReadPrivateKey(p)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// writeTrust writes a signed trust file, refusing an incomplete one
// unless partial is set.
func writeTrust(cmd *cobra.Command, out string, file []byte, partial bool) error {
	r, err := trust.Parse(file)
	complete := err == nil
	if err != nil && !(partial && errors.Is(err, trust.ErrThreshold)) {
		return cli.Exit(2, fmt.Errorf("%w (give more --sign keys, or --partial and collect signatures with 'keys root sign')", err))
	}
	if r == nil {
		if r, err = decodeTrustUnverified(file); err != nil {
			return err
		}
	}
	if err := atomicfile.WriteFile(out, file, 0o644); err != nil {
		return err
	}
	return printRoot(cmd, summarizeRoot(out, r, complete, time.Now()))
}

// parseUnverified decodes a trust file without checking signatures, to
// show or extend a partially signed file.
func decodeTrustUnverified(file []byte) (*trust.Root, error) {
	return trust.Decode(file)
}

func newRootCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "root",
		Short: "The root of trust: which keys may sign watchlist bundles",
		Long: `The root of trust (trust.json) lists the issuing-authority keys allowed to
sign bundles, with validity periods and revocations. It is versioned and
signed by k of the n root keys pinned on units at install: a unit accepts a
new trust file only if it is newer and signed by the quorum. Root private
keys stay offline with their custodians; when they are on different
machines, write with --partial and pass the file round for 'keys root sign'.`,
	}
	var (
		rootKeys                 []string
		threshold                int
		out, trustPath           string
		signers, sign            []string
		name, keyID, reason      string
		validFor                 time.Duration
		notBefore                string
		partial                  bool
		installTo, installConfig string
	)
	initCmd := &cobra.Command{
		Use:   "init --root-keys K1,K2,K3 --threshold 2 --out trust.json",
		Short: "Create version 1 of a trust file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" || len(rootKeys) == 0 {
				return cli.Exit(2, errors.New("--root-keys and --out are required"))
			}
			if _, err := os.Stat(out); err == nil {
				return cli.Exit(2, fmt.Errorf("%s exists: use add-signer/revoke-signer to change it", out))
			}
			pubs, privs, err := readRootKeys(rootKeys)
			if err != nil {
				return err
			}
			extra, err := readSigningKeys(sign)
			if err != nil {
				return err
			}
			now := time.Now()
			r, err := trust.New(pubs, threshold, now)
			if err != nil {
				return cli.Exit(2, err)
			}
			nb, err := parseTimeFlag(notBefore, now)
			if err != nil {
				return cli.Exit(2, err)
			}
			for _, s := range signers {
				pub, err := trust.ReadPublicKey(s)
				if err != nil {
					return err
				}
				if err := r.AddSigner(name, pub, nb, nb.Add(validFor)); err != nil {
					return err
				}
			}
			file, err := trust.Sign(r, append(privs, extra...)...)
			if err != nil {
				return err
			}
			return writeTrust(cmd, out, file, partial)
		},
	}
	initCmd.Flags().StringSliceVar(&rootKeys, "root-keys", nil, "root keys: private key files (they also sign), public key files or base64")
	initCmd.Flags().IntVar(&threshold, "threshold", 2, "root signatures required (k of n)")
	initCmd.Flags().StringSliceVar(&signers, "signer", nil, "signing public keys to list at once (KEY.pub files or base64)")

	change := func(use, short string, edit func(r *trust.Root, now time.Time) error) *cobra.Command {
		return &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if trustPath == "" {
					return cli.Exit(2, errors.New("--trust is required"))
				}
				cur, err := trust.Load(trustPath)
				if err != nil {
					return err
				}
				keys, err := readSigningKeys(sign)
				if err != nil {
					return err
				}
				now := time.Now()
				next := cur.Next(now)
				if err := edit(next, now); err != nil {
					return cli.Exit(2, err)
				}
				file, err := trust.Sign(next, keys...)
				if err != nil {
					return err
				}
				if _, err := cur.Update(file); err != nil && !(partial && errors.Is(err, trust.ErrThreshold)) {
					return cli.Exit(2, fmt.Errorf("%w (give more --sign keys, or --partial)", err))
				}
				dst := out
				if dst == "" {
					dst = trustPath
				}
				return writeTrust(cmd, dst, file, partial)
			},
		}
	}
	addCmd := change("add-signer --trust trust.json --signer KEY.pub --name NAME --sign ROOTKEY…",
		"List a new bundle-signing key (new version, k-of-n signed)",
		func(r *trust.Root, now time.Time) error {
			if len(signers) != 1 {
				return errors.New("give exactly one --signer")
			}
			pub, err := trust.ReadPublicKey(signers[0])
			if err != nil {
				return err
			}
			nb, err := parseTimeFlag(notBefore, now)
			if err != nil {
				return err
			}
			return r.AddSigner(name, pub, nb, nb.Add(validFor))
		})
	addCmd.Flags().StringSliceVar(&signers, "signer", nil, "signing public key (KEY.pub file or base64)")
	revokeCmd := change("revoke-signer --trust trust.json --key-id ID --sign ROOTKEY…",
		"Revoke a bundle-signing key (new version, k-of-n signed)",
		func(r *trust.Root, now time.Time) error {
			if keyID == "" {
				return errors.New("--key-id is required")
			}
			return r.RevokeSigner(keyID, reason, now)
		})
	revokeCmd.Flags().StringVar(&keyID, "key-id", "", "key id of the signer to revoke")
	revokeCmd.Flags().StringVar(&reason, "reason", "", "why (kept in the trust file)")
	for _, cc := range []*cobra.Command{initCmd, addCmd} {
		cc.Flags().StringVar(&name, "name", "", "signer's name (e.g. hq-2026)")
		cc.Flags().DurationVar(&validFor, "valid-for", 365*24*time.Hour, "signer validity from --not-before")
		cc.Flags().StringVar(&notBefore, "not-before", "", "start of the signer's validity (RFC 3339; default now)")
	}
	for _, cc := range []*cobra.Command{addCmd, revokeCmd} {
		cc.Flags().StringVar(&trustPath, "trust", "", "current trust file")
	}
	for _, cc := range []*cobra.Command{initCmd, addCmd, revokeCmd} {
		cc.Flags().StringSliceVar(&sign, "sign", nil, "root private key files to sign with")
		cc.Flags().StringVar(&out, "out", "", "trust file to write (add/revoke: default --trust)")
		cc.Flags().BoolVar(&partial, "partial", false, "write even with fewer signatures than the threshold")
	}

	signCmd := &cobra.Command{
		Use:   "sign --trust FILE --sign ROOTKEY…",
		Short: "Add root signatures to a (partially signed) trust file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if trustPath == "" || len(sign) == 0 {
				return cli.Exit(2, errors.New("--trust and --sign are required"))
			}
			b, err := os.ReadFile(trustPath)
			if err != nil {
				return err
			}
			keys, err := readSigningKeys(sign)
			if err != nil {
				return err
			}
			file, err := trust.AddSignatures(b, keys...)
			if err != nil {
				return err
			}
			return writeTrust(cmd, trustPath, file, true)
		},
	}
	signCmd.Flags().StringVar(&trustPath, "trust", "", "trust file to sign in place")
	signCmd.Flags().StringSliceVar(&sign, "sign", nil, "root private key files to sign with")

	showCmd := &cobra.Command{
		Use:   "show --trust FILE",
		Short: "Show a trust file: version, quorum, signers and their status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if trustPath == "" {
				return cli.Exit(2, errors.New("--trust is required"))
			}
			b, err := os.ReadFile(trustPath)
			if err != nil {
				return err
			}
			r, err := trust.Parse(b)
			complete := err == nil
			if err != nil {
				if !errors.Is(err, trust.ErrThreshold) {
					return err
				}
				if r, err = decodeTrustUnverified(b); err != nil {
					return err
				}
			}
			return printRoot(cmd, summarizeRoot(trustPath, r, complete, time.Now()))
		},
	}
	showCmd.Flags().StringVar(&trustPath, "trust", "", "trust file")

	installCmd := &cobra.Command{
		Use:   "install --trust NEW --to INSTALLED",
		Short: "Install a trust file on a unit (an update must be newer and quorum-signed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if trustPath == "" || installTo == "" {
				return cli.Exit(2, errors.New("--trust and --to are required"))
			}
			b, err := os.ReadFile(trustPath)
			if err != nil {
				return err
			}
			ta, err := openTechAudit(installConfig, cmd.Flags().Changed("config"), cmd.ErrOrStderr())
			if err != nil {
				return cli.Exit(2, err)
			}
			defer ta.Close()
			r, err := trust.Install(installTo, b)
			if err != nil {
				ta.record(audit.KindKeyOperation, "trust_root_refused", map[string]string{"path": installTo, "reason": err.Error()})
				return cli.Exit(3, err)
			}
			sum := sha256.Sum256(b)
			if err := ta.record(audit.KindKeyOperation, "trust_root_installed", map[string]string{
				"path": installTo, "version": fmt.Sprint(r.Version), "sha256": hex.EncodeToString(sum[:])}); err != nil {
				return err
			}
			return printRoot(cmd, summarizeRoot(installTo, r, true, time.Now()))
		},
	}
	installCmd.Flags().StringVar(&trustPath, "trust", "", "new trust file")
	installCmd.Flags().StringVar(&installTo, "to", "", "installed trust file to replace (created at first install)")
	installCmd.Flags().StringVar(&installConfig, "config", techDefaultConfig, "checkpointd's config, for its audit log")

	c.AddCommand(initCmd, addCmd, revokeCmd, signCmd, showCmd, installCmd)
	return c
}

func parseTimeFlag(v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q (want RFC 3339): %w", v, err)
	}
	return t, nil
}
