package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

func init() { rootCmd.AddCommand(newMRZCmd()) }

func newMRZCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "mrz",
		Short: "Parse, check and generate ICAO 9303 machine-readable zones",
	}
	c.AddCommand(newMRZParseCmd(), newMRZGenerateCmd(), newMRZCheckDigitCmd(), newMRZTransliterateCmd())
	return c
}

func newMRZParseCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "parse",
		Short: "Parse MRZs from stdin (one document per blank-line-separated block)",
		Long: `Reads MRZ lines on stdin. Documents are separated by blank lines. Each
document is printed in input order with its fields, per-field validity,
problems and (with --autocorrect) every OCR repair. With --json, exactly one
JSON object per document per line. Exits 1 when any document is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			auto, _ := cmd.Flags().GetBool("autocorrect")
			nowStr, _ := cmd.Flags().GetString("now")
			opts := mrz.Options{Autocorrect: auto}
			if nowStr != "" {
				t, err := time.Parse(time.DateOnly, nowStr)
				if err != nil {
					return cli.Exit(2, fmt.Errorf("--now: %w", err))
				}
				opts.Now = t
			}
			blocks, err := mrzBlocks(cmd.InOrStdin())
			if err != nil {
				return fmt.Errorf("reading stdin: %w", err)
			}
			if len(blocks) == 0 {
				return errors.New("no MRZ lines on stdin")
			}
			out := cmd.OutOrStdout()
			invalid := 0
			for i, b := range blocks {
				d := mrz.Parse(b, opts)
				if !d.Valid {
					invalid++
				}
				if jsonOutput(cmd) {
					err = cli.WriteJSONLine(out, d)
				} else {
					err = printMRZ(out, i+1, d)
				}
				if err != nil {
					return err
				}
			}
			if invalid > 0 {
				return cli.Exit(1, fmt.Errorf("%d of %d documents invalid", invalid, len(blocks)))
			}
			return nil
		},
	}
	c.Flags().Bool("autocorrect", false, "repair OCR confusions guided by field types and check digits (every change is listed)")
	c.Flags().String("now", "", "reference date YYYY-MM-DD for century inference and expiry (default today)")
	return c
}

// mrzBlocks splits input into documents at blank lines, trimming spaces.
func mrzBlocks(r io.Reader) ([][]string, error) {
	var blocks [][]string
	var cur []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" {
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, l)
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks, sc.Err()
}

func printMRZ(w io.Writer, n int, d *mrz.Document) error {
	status := "VALID"
	if !d.Valid {
		status = "INVALID"
	}
	format := string(d.Format)
	if format == "" {
		format = "unknown format"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "document %d: %s %s\n", n, format, status)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	if d.Format != mrz.FormatUnknown {
		row("document code", d.DocumentCode)
		row("issuing state", withCountry(d.IssuingState))
		row("document number", d.DocumentNumber+longMark(d))
		row("surname", d.Surname)
		given := strings.Join(d.GivenNames, " ")
		if d.NameTruncated {
			given += " (name may be truncated)"
		}
		row("given names", given)
		row("nationality", withCountry(d.Nationality))
		row("date of birth", dateOrRaw(d.BirthDate))
		row("sex", d.Sex)
		row("expiry date", dateOrRaw(d.ExpiryDate))
		row("optional data", d.OptionalData)
		if d.Format == mrz.FormatTD1 {
			row("optional data 2", d.OptionalData2)
		}
		fmt.Fprintf(tw, "  fields:\n")
		for _, f := range d.Fields {
			ok := "ok"
			if !f.Valid {
				ok = "INVALID"
			}
			fmt.Fprintf(tw, "    %s\t%q\tline %d col %d\tcheck %s\t%s\n", f.Name, f.Raw, f.Line, f.Column, f.Check, ok)
		}
	}
	if len(d.Problems) > 0 {
		fmt.Fprintf(tw, "  problems:\n")
		for _, p := range d.Problems {
			field := p.Field
			if field == "" {
				field = "-"
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", p.Severity, field, p.Code, p.Message)
		}
	}
	if len(d.Corrections) > 0 {
		fmt.Fprintf(tw, "  corrections:\n")
		for _, c := range d.Corrections {
			fmt.Fprintf(tw, "    %s\n", c)
		}
	}
	fmt.Fprintln(tw)
	return tw.Flush()
}

func withCountry(code string) string {
	if name, ok := mrz.CountryName(code); ok {
		return code + " (" + name + ")"
	}
	return code
}

func longMark(d *mrz.Document) string {
	if d.LongNumber {
		return " (long number, continued in optional data)"
	}
	return ""
}

func dateOrRaw(d mrz.Date) string {
	if s := d.String(); s != "" && d.Valid {
		return s
	}
	if d.Raw != "" && !d.Valid {
		return d.Raw + " (invalid)"
	}
	return "unknown"
}

func newMRZGenerateCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "generate",
		Short: "Print valid synthetic MRZs (blank line between documents)",
		Example: `  checkpointctl mrz generate --format TD3 --surname Eriksson --given "Anna Maria" \
      --number L898902C3 --state UTO --nationality UTO --birth 1974-08-12 --expiry 2032-04-15 --sex F
  checkpointctl mrz generate --format TD1 --count 5 --seed 42`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			formatStr, _ := fl.GetString("format")
			format := mrz.Format(strings.ToUpper(formatStr))
			count, _ := fl.GetInt("count")
			seed, _ := fl.GetUint64("seed")
			var specs []mrz.Spec
			if count > 0 {
				if !fl.Changed("seed") {
					seed = uint64(time.Now().UnixNano())
				}
				r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
				for range count {
					specs = append(specs, mrz.Random(r, format, time.Now()))
				}
			} else {
				s, err := mrzSpecFromFlags(cmd, format)
				if err != nil {
					return cli.Exit(2, err)
				}
				specs = append(specs, s)
			}
			out := cmd.OutOrStdout()
			for i, s := range specs {
				lines, err := mrz.Generate(s)
				if err != nil {
					return cli.Exit(2, err)
				}
				if jsonOutput(cmd) {
					if err := cli.WriteJSONLine(out, struct {
						Format mrz.Format `json:"format"`
						Lines  []string   `json:"lines"`
					}{s.Format, lines}); err != nil {
						return err
					}
					continue
				}
				if i > 0 {
					fmt.Fprintln(out)
				}
				fmt.Fprintln(out, strings.Join(lines, "\n"))
			}
			return nil
		},
	}
	f := c.Flags()
	f.String("format", "TD3", "TD1, TD2, TD3, MRV-A or MRV-B")
	f.String("code", "", "document code (default P, I or V by format)")
	f.String("surname", "", "primary identifier (any script; transliterated per ICAO 9303 Part 3)")
	f.StringSlice("given", nil, "given names (repeat the flag or separate with spaces)")
	f.String("number", "", "document number (TD1/TD2 accept more than 9 characters)")
	f.String("state", "UTO", "issuing state code")
	f.String("nationality", "UTO", "nationality code")
	f.String("birth", "", "date of birth YYYY-MM-DD (empty: unknown)")
	f.String("expiry", "", "expiry date YYYY-MM-DD (empty: unknown)")
	f.String("sex", "", "M, F or X")
	f.String("optional", "", "optional data / personal number")
	f.Int("count", 0, "print this many random synthetic documents instead")
	f.Uint64("seed", 0, "random seed for --count (default: time-based)")
	return c
}

func mrzSpecFromFlags(cmd *cobra.Command, format mrz.Format) (mrz.Spec, error) {
	fl := cmd.Flags()
	str := func(n string) string { v, _ := fl.GetString(n); return v }
	given, _ := fl.GetStringSlice("given")
	var names []string
	for _, g := range given {
		names = append(names, strings.Fields(g)...)
	}
	s := mrz.Spec{
		Format: format, DocumentCode: str("code"), IssuingState: str("state"), Surname: str("surname"),
		GivenNames: names, DocumentNumber: str("number"), Nationality: str("nationality"),
		Sex: str("sex"), OptionalData: str("optional"),
	}
	if s.Surname == "" || s.DocumentNumber == "" {
		return s, errors.New("--surname and --number are required (or use --count for random documents)")
	}
	for _, d := range []struct {
		flag string
		dst  *time.Time
	}{{"birth", &s.BirthDate}, {"expiry", &s.ExpiryDate}} {
		if v := str(d.flag); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return s, fmt.Errorf("--%s: %w", d.flag, err)
			}
			*d.dst = t
		}
	}
	return s, nil
}

func newMRZCheckDigitCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check-digit STRING...",
		Short: "Print the ICAO 9303 check digit (weights 7-3-1) of each argument",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			for _, a := range args {
				for _, r := range a {
					if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '<') {
						return cli.Exit(2, fmt.Errorf("%q: only A-Z, 0-9 and < can appear in an MRZ", a))
					}
				}
				d := string(mrz.CheckDigit(a))
				if jsonOutput(cmd) {
					if err := cli.WriteJSONLine(out, map[string]string{"input": a, "check_digit": d}); err != nil {
						return err
					}
					continue
				}
				if len(args) == 1 {
					fmt.Fprintln(out, d)
				} else {
					fmt.Fprintf(out, "%s %s\n", a, d)
				}
			}
			return nil
		},
	}
}

func newMRZTransliterateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "transliterate NAME...",
		Short: "Print a name in ICAO 9303 Part 3 MRZ form, recommended form first, then alternatives",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := strings.Join(args, " ")
			v := mrz.TransliterateVariants(name)
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), map[string]any{"input": name, "recommended": v[0], "variants": v})
			}
			for _, s := range v {
				fmt.Fprintln(cmd.OutOrStdout(), s)
			}
			return nil
		},
	}
}
