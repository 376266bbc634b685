package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/device/chip"
	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/emrtd"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
)

func init() {
	rootCmd.AddCommand(newChipCmd())
	// Sideloaded trust bundles (checkpointctl bundle import) are checked
	// by the same consumer the daemon runs.
	channelConsumers[bundle.KindTrust] = func() channel.Consumer { return pa.NewTrustChannel() }
}

func newChipCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chip",
		Short: "Passport chip: read and verify a chip, verify a saved dump, manage the CSCA trust anchors",
		Long: "Reads a passport or ID-card chip through pcscd (PACE or BAC with the MRZ, or the CAN), verifies it " +
			"(passive authentication against the unit's CSCA certificates and CRLs, Active and Chip Authentication, " +
			"the chip's MRZ against the printed one) and manages the trust anchors (ICAO master lists, CSCA folders, CRLs).",
	}
	cmd.PersistentFlags().String("config", techDefaultConfig, "checkpointd's config (chip reader, trust file, scanner)")
	cmd.PersistentFlags().String("trust", "", "trust anchors file (default: the config's chip.trust)")
	cmd.AddCommand(newChipReadCmd(), newChipVerifyCmd(), newChipTrustCmd())
	return cmd
}

// chipConfig loads the config when there is one; explicit is true when
// --config was given (then it must load).
func chipConfig(cmd *cobra.Command) (*config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(path)
	if err != nil {
		if cmd.Flags().Changed("config") {
			return nil, err
		}
		return nil, nil
	}
	return cfg, nil
}

func trustPath(cmd *cobra.Command, cfg *config.Config) string {
	if p, _ := cmd.Flags().GetString("trust"); p != "" {
		return p
	}
	if cfg != nil {
		return cfg.Chip.Trust
	}
	return ""
}

// loadTrust reads the trust file into a store; a missing file is an
// empty store (every chip "not verified").
func loadTrust(path string) (*pa.Store, error) {
	st := pa.NewStore()
	if path == "" {
		return st, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	set, _, err := pa.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("trust file %s: %w", path, err)
	}
	return st, st.InstallTrust(set)
}

// chipResult is `chip read --json` and `chip verify --json`.
type chipResult struct {
	Report *emrtd.Report `json:"report,omitempty"`
	Dump   string        `json:"dump,omitempty"` // where the dump was saved
	Error  string        `json:"error,omitempty"`
	Reason string        `json:"reason,omitempty"`
}

func newChipReadCmd() *cobra.Command {
	var (
		mrzText, can, socket, reader, out string
		timeout, wait                     time.Duration
		noPACE                            bool
	)
	cmd := &cobra.Command{
		Use:   "read",
		Short: "Read and verify the chip on the reader, with the MRZ from --mrz or from the document scanner",
		Long: "Opens the chip with the MRZ (--mrz \"LINE1|LINE2[|LINE3]\", or the next document read by the scanner of the " +
			"config) or with --can, reads EF.COM, EF.SOD and the data groups, runs the clone checks and verifies everything. " +
			"--out saves the dump (it holds personal data: the MRZ and the photo) for `chip verify`. Exit 0: genuine, " +
			"3: not verified (no CSCA), 4: failed verification, 1: the chip could not be read.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := chipConfig(cmd)
			if err != nil {
				return err
			}
			if cfg != nil {
				if socket == "" {
					socket = cfg.Chip.Socket
				}
				if reader == "" {
					reader = cfg.Chip.Reader
				}
			}
			ctx := cmd.Context()
			var doc *mrz.Document
			var key emrtd.Key
			switch {
			case can != "":
				key = emrtd.Key{CAN: can}
			case mrzText != "":
				doc = mrz.Parse(strings.Split(mrzText, "|"), mrz.Options{Autocorrect: true})
			default:
				if cfg == nil || !cfg.Scanner.Enabled {
					return cli.Exit(2, errors.New("give --mrz or --can, or a config with a scanner"))
				}
				fmt.Fprintln(cmd.ErrOrStderr(), "waiting for a document on the scanner…")
				if doc, err = scanOne(ctx, cfg, wait); err != nil {
					return err
				}
			}
			if doc != nil {
				if key, err = emrtd.KeyFromMRZ(doc); err != nil {
					return cli.Exit(2, fmt.Errorf("the MRZ gives no chip key: %w", err))
				}
			}
			store, err := loadTrust(trustPath(cmd, cfg))
			if err != nil {
				return err
			}
			r, err := chip.Open(chip.Config{Socket: socket, Reader: reader}, nil)
			if err != nil {
				return err
			}
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { r.Run(rctx); close(done) }()
			defer func() { cancel(); r.Close(); <-done }()
			wctx, wcancel := context.WithTimeout(ctx, wait)
			defer wcancel()
			first := true
			open := func(ctx context.Context) (emrtd.Card, error) {
				if first {
					first = false
					return r.Wait(wctx)
				}
				return r.Wait(ctx)
			}
			dump, rerr := emrtd.Read(ctx, open, key, emrtd.Options{Timeout: timeout + wait, NoPACE: noPACE})
			res := chipResult{}
			if rerr != nil {
				if errors.Is(rerr, emrtd.ErrNoChip) && r.State().Err != nil {
					rerr = fmt.Errorf("%w (reader: %v)", rerr, r.State().Err)
				}
				res.Error, res.Reason = rerr.Error(), emrtd.ReadFailure(rerr)
			}
			if out != "" && dump != nil && len(dump.Files) > 0 {
				b, _ := json.MarshalIndent(dump, "", "  ")
				if err := atomicfile.WriteFile(out, b, 0o600); err != nil {
					return err
				}
				res.Dump = out
			}
			if rerr == nil {
				res.Report = emrtd.Verify(dump, store, doc, emrtd.VerifyOptions{RequireCRL: cfg != nil && cfg.Chip.RequireCRL})
			}
			return printChip(cmd, res, dump)
		},
	}
	f := cmd.Flags()
	f.StringVar(&mrzText, "mrz", "", `the printed MRZ, lines separated by "|"`)
	f.StringVar(&can, "can", "", "card access number (six digits) instead of the MRZ")
	f.StringVar(&socket, "socket", "", "pcscd socket (default: the config's, PCSCLITE_CSOCK_NAME or /run/pcscd/pcscd.comm)")
	f.StringVar(&reader, "reader", "", "the reader whose name contains this (default: the first)")
	f.StringVar(&out, "out", "", "save the dump here (mode 0600; it holds personal data)")
	f.DurationVar(&timeout, "timeout", 15*time.Second, "deadline of the read once the chip is there")
	f.DurationVar(&wait, "wait", 30*time.Second, "how long to wait for a document and a chip")
	f.BoolVar(&noPACE, "no-pace", false, "BAC only")
	return cmd
}

// scanOne reads one document from the config's scanner.
func scanOne(ctx context.Context, cfg *config.Config, wait time.Duration) (*mrz.Document, error) {
	fr, err := scanner.ParseFraming(cfg.Scanner.Framing)
	if err != nil {
		return nil, err
	}
	s, err := scanner.Open(scanner.Config{Port: cfg.Scanner.Port, VID: cfg.Scanner.VID, PID: cfg.Scanner.PID, Serial: cfg.Scanner.Serial,
		Baud: cfg.Scanner.Baud, DataBits: cfg.Scanner.DataBits, Parity: cfg.Scanner.Parity, StopBits: cfg.Scanner.StopBits,
		Framing: fr, LineTimeout: cfg.Scanner.LineTimeout.D(), MRZ: mrz.Options{Autocorrect: cfg.Scanner.Autocorrect}}, nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	go s.Run(ctx)
	defer s.Close()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			return nil, errors.New("scanner stopped before a document was read")
		}
		return ev.Document, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no document scanned within %v (%v)", wait, s.State().Err)
	}
}

func newChipVerifyCmd() *cobra.Command {
	var mrzText string
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Verify a saved chip dump (chip read --out) against the trust anchors",
		Long: "Runs passive authentication, checks the recorded Active Authentication answer against DG15, reports the " +
			"recorded Chip Authentication outcome and, with --mrz, compares DG1 with the printed MRZ. The dump format is " +
			"JSON (" + emrtd.DumpFormat + "): the files exactly as read, base64.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := chipConfig(cmd)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			dump, err := emrtd.ParseDump(b)
			if err != nil {
				return cli.Exit(2, err)
			}
			store, err := loadTrust(trustPath(cmd, cfg))
			if err != nil {
				return err
			}
			var doc *mrz.Document
			if mrzText != "" {
				doc = mrz.Parse(strings.Split(mrzText, "|"), mrz.Options{Autocorrect: true})
			}
			rep := emrtd.Verify(dump, store, doc, emrtd.VerifyOptions{RequireCRL: cfg != nil && cfg.Chip.RequireCRL})
			return printChip(cmd, chipResult{Report: rep}, dump)
		},
	}
	cmd.Flags().StringVar(&mrzText, "mrz", "", `the printed MRZ to compare with DG1, lines separated by "|"`)
	return cmd
}

// printChip prints a result and turns the verdict into the exit code.
func printChip(cmd *cobra.Command, res chipResult, dump *emrtd.Dump) error {
	w := cmd.OutOrStdout()
	if jsonOutput(cmd) {
		if err := cli.WriteJSONLine(w, res); err != nil {
			return err
		}
	} else {
		printChipHuman(w, res, dump)
	}
	switch {
	case res.Error != "":
		return cli.Exit(1, errors.New(res.Reason))
	case res.Report.Verdict == emrtd.NotVerified:
		return cli.Exit(3, errors.New(res.Report.Line()))
	case res.Report.Verdict == emrtd.Failed:
		return cli.Exit(4, errors.New(res.Report.Line()))
	}
	return nil
}

func mark(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAIL"
}

func printChipHuman(w io.Writer, res chipResult, dump *emrtd.Dump) {
	if dump != nil {
		fmt.Fprintf(w, "read:      %s", dump.Access)
		if dump.PACE != "" {
			fmt.Fprintf(w, " (%s)", dump.PACE)
		}
		fmt.Fprintf(w, " · %d files · %.0f ms · %d APDUs", len(dump.Files), dump.DurationMS, dump.APDUs)
		if dump.Resumes > 0 {
			fmt.Fprintf(w, " · resumed %d×", dump.Resumes)
		}
		fmt.Fprintln(w)
		for name, why := range dump.Unavailable {
			fmt.Fprintf(w, "           %s not read: %s\n", name, why)
		}
	}
	if res.Dump != "" {
		fmt.Fprintf(w, "dump:      %s (holds personal data: delete it when done)\n", res.Dump)
	}
	if res.Error != "" {
		fmt.Fprintf(w, "FAILED:    %s\n           (%s)\n", res.Reason, res.Error)
		return
	}
	r := res.Report
	fmt.Fprintf(w, "verdict:   %s\n", strings.ToUpper(r.Line()[:1])+r.Line()[1:])
	fmt.Fprintf(w, "passive authentication: %s", r.PA.Status)
	if r.PA.Country != "" {
		fmt.Fprintf(w, " (signer country %s)", r.PA.Country)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range r.PA.Steps {
		st := mark(s.OK)
		switch {
		case s.Skip:
			st = "skip"
		case s.Warn:
			st = "warn"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", st, s.Name, s.Detail)
	}
	tw.Flush()
	fmt.Fprintf(w, "active authentication:  %s %s\n", r.AA.Status, r.AA.Detail)
	fmt.Fprintf(w, "chip authentication:    %s %s\n", r.CA.Status, r.CA.Detail)
	switch {
	case r.ChipMRZ == nil:
		fmt.Fprintln(w, "chip MRZ (DG1):         missing")
	case len(r.Mismatches) > 0:
		var f []string
		for _, m := range r.Mismatches {
			f = append(f, m.Field)
		}
		fmt.Fprintf(w, "chip MRZ (DG1):         DIFFERS from the printed MRZ in %s\n", strings.Join(f, ", "))
	default:
		fmt.Fprintln(w, "chip MRZ (DG1):         matches the printed MRZ (or none was given)")
	}
	if r.ChipExpired {
		fmt.Fprintln(w, "                        the chip's expiry date has passed")
	}
	if r.Face != nil {
		fmt.Fprintf(w, "face (DG2):             %s %dx%d, %d bytes\n", r.Face.Format, r.Face.Width, r.Face.Height, len(r.Face.Data))
	} else {
		fmt.Fprintln(w, "face (DG2):             none")
	}
	fmt.Fprintf(w, "files:     %s\n", strings.Join(r.Files, " "))
}

func newChipTrustCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "trust", Short: "CSCA certificates and CRLs that passive authentication trusts"}
	cmd.AddCommand(newChipTrustImportCmd(), newChipTrustListCmd(), newChipTrustRecordsCmd())
	return cmd
}

// trustImportResult is `chip trust import --json`.
type trustImportResult struct {
	Path        string              `json:"path"`
	Imported    int                 `json:"imported_cscas"`
	ImportedCRL int                 `json:"imported_crls"`
	Total       int                 `json:"total_cscas"`
	TotalCRLs   int                 `json:"total_crls"`
	MasterLists []pa.MasterListInfo `json:"master_lists,omitempty"`
	Countries   []pa.CountrySummary `json:"countries"`
	SHA256      string              `json:"sha256"`
}

func newChipTrustImportCmd() *cobra.Command {
	var replace bool
	cmd := &cobra.Command{
		Use:   "import FILE|DIR",
		Short: "Add CSCA certificates and CRLs (ICAO master list, PEM/DER files or a folder of them) to the unit's trust file",
		Long: "For air-gapped posts: reads an ICAO CSCA master list (its CMS signature is checked), PEM or DER " +
			"certificates and CRLs, or a folder of them, and writes the unit's trust file atomically (merged with what is " +
			"there, or replacing it with --replace). The daemon picks the new file up within seconds. Recorded in the audit log.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := chipConfig(cmd)
			if err != nil {
				return err
			}
			path := trustPath(cmd, cfg)
			if path == "" {
				return cli.Exit(2, errors.New("no trust file: give --trust or a config"))
			}
			if isBundle(args[0]) {
				return cli.Exit(2, fmt.Errorf("%s is a signed bundle: import it with `checkpointctl bundle import %s`, which checks its signature, rollback and expiry", args[0], args[0]))
			}
			set, infos, err := pa.LoadPath(args[0])
			if err != nil {
				return cli.Exit(2, err)
			}
			for _, c := range set.CSCAs {
				if !c.IsCA {
					return cli.Exit(2, fmt.Errorf("%s is not a CA certificate: refused as a trust anchor", c.Subject))
				}
			}
			res := trustImportResult{Path: path, Imported: len(set.CSCAs), ImportedCRL: len(set.CRLs), MasterLists: infos}
			if !replace {
				if b, err := os.ReadFile(path); err == nil {
					old, _, err := pa.Parse(b)
					if err != nil {
						return fmt.Errorf("current trust file %s: %w (use --replace)", path, err)
					}
					set = pa.Merge(old, set)
				}
			}
			st := pa.NewStore()
			if err := st.InstallTrust(set); err != nil {
				return cli.Exit(2, err)
			}
			b := pa.EncodePEM(set)
			sum := sha256.Sum256(b)
			res.SHA256 = hex.EncodeToString(sum[:])
			res.Total, res.TotalCRLs, res.Countries = len(set.CSCAs), len(set.CRLs), st.Summary()
			ta, err := openTechAudit(cfgPath(cmd), cmd.Flags().Changed("config"), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer ta.Close()
			if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
				return err
			}
			if err := ta.record(audit.KindKeyOperation, "chip_trust_import", map[string]string{"path": path, "source": args[0],
				"sha256": res.SHA256, "cscas": fmt.Sprint(res.Total), "crls": fmt.Sprint(res.TotalCRLs), "replace": fmt.Sprint(replace)}); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(w, res)
			}
			for _, ml := range infos {
				fmt.Fprintf(w, "master list: %d CSCAs, signed by %s (signature %s, signer chained to a listed CSCA: %v)\n",
					ml.Entries, ml.Signer, mark(ml.SignatureOK), ml.SignerChained)
			}
			fmt.Fprintf(w, "imported %d CSCA certificates and %d CRLs; %s now holds %d CSCAs and %d CRLs for %d countries\n",
				res.Imported, res.ImportedCRL, path, res.Total, res.TotalCRLs, len(res.Countries))
			return nil
		},
	}
	cmd.Flags().BoolVar(&replace, "replace", false, "replace the trust file instead of adding to it")
	return cmd
}

// isBundle reports whether path is a (signed, encrypted) bundle file.
func isBundle(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	return strings.HasPrefix(string(head[:n]), "age-encryption.org/") || strings.HasPrefix(string(head[:n]), bundle.Magic)
}

func newChipTrustRecordsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "records FILE|DIR",
		Short: "Turn a master list, CSCA certificates and CRLs into trust channel records (JSON Lines) for `bundle build --kind trust`",
		Long: "Headquarters publishes trust anchors to units as signed, encrypted \"trust\" channel bundles: " +
			"checkpointctl chip trust records ICAO.ml > trust.jsonl; checkpointctl bundle build --kind trust --channel icao --from trust.jsonl …",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, _, err := pa.LoadPath(args[0])
			if err != nil {
				return cli.Exit(2, err)
			}
			recs, err := pa.RecordsFromSet(set)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if err := cli.WriteJSONLine(cmd.OutOrStdout(), r); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func cfgPath(cmd *cobra.Command) string {
	p, _ := cmd.Flags().GetString("config")
	return p
}

func newChipTrustListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Countries whose CSCAs the unit trusts, with expiry dates and CRLs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := chipConfig(cmd)
			if err != nil {
				return err
			}
			path := trustPath(cmd, cfg)
			st, err := loadTrust(path)
			if err != nil {
				return err
			}
			sum := st.Summary()
			w := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				if sum == nil {
					sum = []pa.CountrySummary{}
				}
				return cli.WriteJSONLine(w, map[string]any{"path": path, "countries": sum})
			}
			if len(sum) == 0 {
				fmt.Fprintf(w, "no CSCA certificates in %s: every chip will be \"not verified\" (import a master list: checkpointctl chip trust import FILE)\n", path)
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "COUNTRY\tCSCAs\tLATEST EXPIRY\tCRLs\tCRL NEXT UPDATE")
			now := time.Now()
			for _, c := range sum {
				exp := c.NotAfter.Format("2006-01-02")
				if c.NotAfter.Before(now) {
					exp += " (EXPIRED)"
				}
				crl := "-"
				if !c.CRLExpiry.IsZero() {
					crl = c.CRLExpiry.Format("2006-01-02")
					if c.CRLExpiry.Before(now) {
						crl += " (STALE)"
					}
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", c.Country, c.CSCAs, exp, c.CRLs, crl)
			}
			return tw.Flush()
		},
	}
}
