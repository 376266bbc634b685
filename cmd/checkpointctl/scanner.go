package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.bug.st/serial"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

func init() { rootCmd.AddCommand(newScannerCmd()) }

func newScannerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scanner",
		Short: "List serial ports, read documents from a reader, simulate a reader",
	}
	cmd.AddCommand(newScannerListCmd(), newScannerListenCmd(), newScannerSimulateCmd())
	return cmd
}

func newScannerListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List serial ports with their USB vendor/product ids, serial number and product",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ports, err := scanner.ListPorts()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				for _, p := range ports {
					if err := cli.WriteJSONLine(out, p); err != nil {
						return err
					}
				}
				return nil
			}
			if len(ports) == 0 {
				fmt.Fprintln(out, "no serial ports found")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PORT\tUSB\tVID:PID\tSERIAL\tPRODUCT")
			for _, p := range ports {
				usb, ids := "no", "-"
				if p.IsUSB {
					usb = "yes"
				}
				if p.VID != "" || p.PID != "" {
					ids = p.VID + ":" + p.PID
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, usb, ids, dash(p.Serial), dash(p.Product))
			}
			return tw.Flush()
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// scannerPortFlags are the serial settings shared by listen and simulate.
type scannerPortFlags struct {
	framing  scanner.Framing
	baud     int
	dataBits int
	parity   string
	stopBits int
}

func (f *scannerPortFlags) add(cmd *cobra.Command) {
	cmd.Flags().Var(&f.framing, "framing", "how the reader frames documents: "+scanner.FramingNames())
	cmd.Flags().IntVar(&f.baud, "baud", 9600, "baud rate")
	cmd.Flags().IntVar(&f.dataBits, "data-bits", 8, "data bits (5-8)")
	cmd.Flags().StringVar(&f.parity, "parity", "none", "parity: none, odd, even, mark or space")
	cmd.Flags().IntVar(&f.stopBits, "stop-bits", 1, "stop bits (1 or 2)")
}

// scannerRecord is what `scanner listen --json` prints per document: the
// parsed document as `mrz parse --json` prints it, plus reception facts.
type scannerRecord struct {
	ReceivedAt time.Time `json:"received_at"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Repeat     bool      `json:"repeat"`
	RawLines   []string  `json:"raw_lines"`
}

// scannerEventJSON splices the reception facts into the document's own
// JSON object, so the document keeps exactly the shape mrz tools print.
func scannerEventJSON(ev scanner.Event, received time.Time) ([]byte, error) {
	doc, err := json.Marshal(ev.Document)
	if err != nil {
		return nil, err
	}
	extra, err := json.Marshal(scannerRecord{ReceivedAt: received, Start: ev.Start, End: ev.End, Repeat: ev.Repeat, RawLines: ev.Lines})
	if err != nil {
		return nil, err
	}
	if len(doc) < 2 || doc[0] != '{' {
		return nil, fmt.Errorf("document does not marshal to a JSON object")
	}
	out := make([]byte, 0, len(doc)+len(extra)+2)
	out = append(out, doc[:len(doc)-1]...)
	if len(doc) > 2 {
		out = append(out, ',')
	}
	out = append(out, extra[1:]...)
	return append(out, '\n'), nil
}

func newScannerListenCmd() *cobra.Command {
	var (
		pf                   scannerPortFlags
		cfg                  scanner.Config
		autocorrect, verbose bool
		count                int
	)
	cmd := &cobra.Command{
		Use:   "listen (--port PATH | --vid VID --pid PID [--serial SN])",
		Short: "Print every document the reader sends until interrupted",
		Long: "Opens the reader (reconnecting if it is unplugged) and prints each document read: " +
			"time, format, validity, key fields, problems and a REPEAT marker for a document scanned twice. " +
			"With --json, one object per document per line. Connection events are logged on stderr " +
			"without personal data. Ctrl-C ends it with exit status 0.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Framing, cfg.Baud, cfg.DataBits, cfg.Parity, cfg.StopBits = pf.framing, pf.baud, pf.dataBits, pf.parity, pf.stopBits
			cfg.MRZ = mrz.Options{Autocorrect: autocorrect}
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			s, err := scanner.Open(cfg, logger)
			if err != nil {
				return cli.Exit(2, err)
			}
			return scannerListen(cmd.Context(), s, cmd.OutOrStdout(), jsonOutput(cmd), count)
		},
	}
	pf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&cfg.Port, "port", "", "serial device path, e.g. /dev/ttyUSB0")
	f.StringVar(&cfg.VID, "vid", "", "find the reader by USB vendor id (4 hex digits)")
	f.StringVar(&cfg.PID, "pid", "", "find the reader by USB product id (4 hex digits)")
	f.StringVar(&cfg.Serial, "serial", "", "with --vid/--pid: USB serial number of the reader")
	f.DurationVar(&cfg.LineTimeout, "line-timeout", scanner.DefaultLineTimeout, "longest silence inside one document")
	f.DurationVar(&cfg.RepeatWindow, "repeat-window", scanner.DefaultRepeatWindow, "same document again within this time is a repeat (negative: off)")
	f.BoolVar(&autocorrect, "autocorrect", false, "repair OCR confusions guided by check digits (every change is listed)")
	f.IntVar(&count, "count", 0, "exit after this many documents (0: until interrupted)")
	f.BoolVar(&verbose, "verbose", false, "debug logs: rejected frames, backoff")
	return cmd
}

func scannerListen(ctx context.Context, s scanner.Scanner, out io.Writer, asJSON bool, count int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()
	defer s.Close()
	n := 0
	for ev := range s.Events() {
		now := time.Now()
		if asJSON {
			b, err := scannerEventJSON(ev, now)
			if err != nil {
				return err
			}
			if _, err := out.Write(b); err != nil {
				return err
			}
		} else {
			printScannerEvent(out, ev, now)
		}
		if n++; count > 0 && n >= count {
			cancel()
			break
		}
	}
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func printScannerEvent(out io.Writer, ev scanner.Event, received time.Time) {
	d := ev.Document
	validity := "INVALID"
	if d.Valid {
		validity = "valid"
	}
	format := string(d.Format)
	if format == "" {
		format = "unknown format"
	}
	repeat := ""
	if ev.Repeat {
		repeat = "  REPEAT"
	}
	fmt.Fprintf(out, "%s  %s  %s%s  (%d bytes in %v)\n", received.Format("2006-01-02 15:04:05.000"), format, validity, repeat,
		len(ev.Raw), ev.End.Sub(ev.Start).Round(time.Millisecond))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  document\t%s %s\tissued by %s\n", dash(d.DocumentCode), dash(d.DocumentNumber), dash(d.IssuingState))
	fmt.Fprintf(tw, "  name\t%s, %s\n", dash(d.Surname), dash(strings.Join(d.GivenNames, " ")))
	fmt.Fprintf(tw, "  born\t%s\tsex %s, nationality %s\n", d.BirthDate, dash(d.Sex), dash(d.Nationality))
	fmt.Fprintf(tw, "  expires\t%s\n", d.ExpiryDate)
	tw.Flush()
	for _, l := range ev.Lines {
		fmt.Fprintf(out, "  | %s\n", l)
	}
	for _, c := range d.Corrections {
		fmt.Fprintf(out, "  corrected: %s\n", c)
	}
	for _, p := range d.Problems {
		field := ""
		if p.Field != "" {
			field = " " + p.Field
		}
		fmt.Fprintf(out, "  %s%s: %s (%s)\n", p.Severity, field, p.Message, p.Code)
	}
	fmt.Fprintln(out)
}

func newScannerSimulateCmd() *cobra.Command {
	var (
		pf       scannerPortFlags
		port     string
		file     string
		interval time.Duration
		count    int
		noise    bool
		seed     uint64
	)
	cmd := &cobra.Command{
		Use:   "simulate --port PATH",
		Short: "Play MRZs to a serial port like a document reader (demos, field checks)",
		Long: "Writes framed documents to PATH at an interval, as a reader would: by default synthetic valid " +
			"documents of varied formats; with --file, the blank-line-separated MRZ blocks of a file. " +
			"Point it at one end of a null-modem cable or of a PTY pair (socat) and `scanner listen` at the other.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if port == "" {
				return cli.Exit(2, errors.New("--port is required"))
			}
			var docs [][]string
			if file != "" {
				var err error
				if docs, err = readMRZBlocks(file); err != nil {
					return cli.Exit(2, err)
				}
				if count == 0 {
					count = len(docs)
				}
			}
			parity, err := scannerParity(pf.parity)
			if err != nil {
				return cli.Exit(2, err)
			}
			stop := serial.OneStopBit
			if pf.stopBits == 2 {
				stop = serial.TwoStopBits
			}
			p, err := serial.Open(port, &serial.Mode{BaudRate: pf.baud, DataBits: pf.dataBits, Parity: parity, StopBits: stop})
			if err != nil {
				return fmt.Errorf("open %s: %w", port, err)
			}
			defer p.Close()
			rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
			out := cmd.OutOrStdout()
			for i := 0; count == 0 || i < count; i++ {
				if i > 0 {
					select {
					case <-cmd.Context().Done():
						return nil
					case <-time.After(interval):
					}
				}
				var lines []string
				if docs != nil {
					lines = docs[i%len(docs)]
				} else if lines, err = syntheticMRZ(rng, i); err != nil {
					return err
				}
				frame, err := scanner.Encode(pf.framing, lines)
				if err != nil {
					return fmt.Errorf("document %d: %w", i+1, err)
				}
				if noise {
					frame = append(scanner.Noise(pf.framing, i), frame...)
				}
				if _, err := p.Write(frame); err != nil {
					return fmt.Errorf("write %s: %w", port, err)
				}
				doc := mrz.Parse(lines, mrz.Options{})
				if jsonOutput(cmd) {
					err = cli.WriteJSONLine(out, map[string]any{
						"n": i + 1, "sent_at": time.Now(), "format": doc.Format, "document_number": doc.DocumentNumber,
						"valid": doc.Valid, "bytes": len(frame), "lines": lines,
					})
				} else {
					_, err = fmt.Fprintf(out, "%d  %s  %s  %s  %d bytes\n", i+1, time.Now().Format("15:04:05.000"), dash(string(doc.Format)), dash(doc.DocumentNumber), len(frame))
				}
				if err != nil {
					return err
				}
			}
			return p.Drain()
		},
	}
	pf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&port, "port", "", "serial device to write to")
	f.StringVar(&file, "file", "", "MRZ file: blocks of 2 or 3 lines separated by blank lines ('#' starts a comment)")
	f.DurationVar(&interval, "interval", 3*time.Second, "pause between documents")
	f.IntVar(&count, "count", 0, "documents to send (0: forever, or each block of --file once)")
	f.BoolVar(&noise, "noise", false, "send line noise (junk bytes, a cut frame) before each document")
	f.Uint64Var(&seed, "seed", 1, "seed for generated documents")
	return cmd
}

func scannerParity(s string) (serial.Parity, error) {
	switch strings.ToLower(s) {
	case "", "none":
		return serial.NoParity, nil
	case "odd":
		return serial.OddParity, nil
	case "even":
		return serial.EvenParity, nil
	case "mark":
		return serial.MarkParity, nil
	case "space":
		return serial.SpaceParity, nil
	}
	return 0, fmt.Errorf("--parity %q: want none, odd, even, mark or space", s)
}

// readMRZBlocks reads blocks of MRZ lines separated by blank lines.
func readMRZBlocks(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var docs [][]string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			docs = append(docs, cur)
			cur = nil
		}
	}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#"):
		case line == "":
			flush()
		default:
			if len(cur) == 3 {
				return nil, fmt.Errorf("%s:%d: more than 3 lines in a block", path, n)
			}
			cur = append(cur, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	flush()
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no MRZ blocks", path)
	}
	return docs, nil
}

// syntheticFormats are cycled through by simulate, so a short run already
// shows every layout a desk meets.
var syntheticFormats = []mrz.Format{mrz.FormatTD3, mrz.FormatTD1, mrz.FormatTD2, mrz.FormatMRVA, mrz.FormatMRVB}

// syntheticMRZ returns the i-th generated document: a made-up traveller
// from the specimen state, with valid check digits.
func syntheticMRZ(rng *rand.Rand, i int) ([]string, error) {
	spec := mrz.Random(rng, syntheticFormats[i%len(syntheticFormats)], time.Now())
	lines, err := mrz.Generate(spec)
	if err != nil {
		return nil, fmt.Errorf("generate %s: %w", spec.Format, err)
	}
	return lines, nil
}
