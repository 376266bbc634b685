package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/demo"
)

func init() { rootCmd.AddCommand(newDemoCmd()) }

func newDemoCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "demo",
		Short: "Prepare and drive the demonstration unit (make run)",
		Long: `The demo runs a complete desk unit on one machine: a hub serving a signed,
encrypted watchlist, the daemon with a simulated scanner on a PTY and a camera
fed from a recorded video of synthetic travellers. scripts/demo.sh starts it;
these commands are its building blocks.`,
	}
	c.AddCommand(newDemoPrepareCmd(), newDemoFeedCmd(), newDemoPCSCDCmd())
	return c
}

// demoPrepared is what demo prepare prints with --json.
type demoPrepared struct {
	Dir        string             `json:"dir"`
	Reused     bool               `json:"reused"`
	Refreshed  bool               `json:"refreshed"`
	Config     string             `json:"config"`
	Travellers string             `json:"travellers"`
	Video      string             `json:"video"`
	Officer    string             `json:"officer"`
	PIN        string             `json:"pin"`
	Bundle     demo.BundleSummary `json:"bundle"`
	Roles      []demo.Traveller   `json:"roles"`
}

func newDemoPrepareCmd() *cobra.Command {
	var o demo.Options
	var verbose bool
	c := &cobra.Command{
		Use:   "prepare --dir DEMO",
		Short: "Make the demo's keys, travellers, signed watchlist, camera video and config",
		Long: `Prepare DIR for the demo, deterministically for a seed: the fleet's TLS
certificates (CA, hub, unit desk-01), a one-of-one root of trust with a
bundle-signing key, the unit's age identity, KEKs and the officer account
(demo / 246810); synthetic travellers with valid MRZs whose faces come from
the labelled photos; a watchlist of background synthetic records plus alerts
on some travellers (wanted persons with face templates, stolen documents,
a name listed under another spelling), built into a signed bundle encrypted to
the unit and published into the hub's bundle directory; travellers.mrz, the
recorded camera video camera.avi and checkpointd.yaml.

Before finishing it installs the bundle into a scratch store through the
unit's verification path and checks that every traveller gets the outcome
the demo designed.

An existing prepared DIR is reused (its bundle is re-issued as the next
sequence when it has aged, and the config rewritten for --listen and
--hub-listen); --force redoes everything.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Dir == "" {
				return cli.Exit(2, errors.New("--dir is required"))
			}
			if verbose && !jsonOutput(cmd) {
				o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			}
			t0 := time.Now()
			res, err := demo.Prepare(cmd.Context(), o)
			if errors.Is(err, demo.ErrOptions) {
				return cli.Exit(2, err)
			}
			if err != nil {
				return err
			}
			m, p := res.Manifest, res.Paths
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), demoPrepared{Dir: p.Dir, Reused: res.Reused, Refreshed: res.Refreshed,
					Config: p.Config, Travellers: p.Travellers, Video: p.Video, Officer: demo.Officer, PIN: demo.PIN,
					Bundle: m.Bundle, Roles: m.Travellers})
			}
			w := cmd.OutOrStdout()
			state := "prepared"
			if res.Reused {
				state = "reused"
				if res.Refreshed {
					state = "reused (bundle re-issued)"
				}
			}
			hits := 0
			for _, t := range m.Travellers {
				if t.Expect != "clear" {
					hits++
				}
			}
			fmt.Fprintf(w, "demo %s in %s (%.1fs)\n", state, p.Dir, time.Since(t0).Seconds())
			fmt.Fprintf(w, "  travellers  %d in %s, %d expected hits, each on camera %s at %g fps\n", len(m.Travellers), p.Travellers, hits, m.Hold, m.FPS)
			for _, t := range m.Travellers {
				fmt.Fprintf(w, "    %2d  %-8s %s\n", t.Index, t.Role, t.Expect)
			}
			fmt.Fprintf(w, "  watchlist   sequence %d, %d documents, %d persons, %d faces, expires %s\n",
				m.Bundle.Sequence, m.Bundle.Documents, m.Bundle.Persons, m.Bundle.Faces, m.Bundle.ExpiresAt.Format(time.RFC3339))
			fmt.Fprintf(w, "  published   %s (signed by %s, encrypted to the unit)\n", m.Bundle.File, m.Bundle.KeyID)
			fmt.Fprintf(w, "  camera      %s\n  config      %s\n", p.Video, p.Config)
			fmt.Fprintf(w, "  officer     %s  PIN %s\n", demo.Officer, demo.PIN)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.Dir, "dir", "", "demo directory (created)")
	f.StringVar(&o.FacesDir, "faces", "", "labelled face photos (default $CHECKPOINT_FACES or ../shared/testdata/faces)")
	f.StringVar(&o.ModelsDir, "models", "", "face models (default $CHECKPOINT_MODELS, ./models or ../shared/models)")
	f.StringVar(&o.Model, "model", "", "ONNX face model metadata the demo unit runs (default <models>/mobilefacenet.json)")
	f.DurationVar(&o.Hold, "hold", demo.DefaultHold, "how long each traveller stays on camera")
	f.Float64Var(&o.FPS, "fps", demo.DefaultFPS, "frame rate of the camera video")
	f.Uint64Var(&o.Seed, "seed", 1, "seed: the same seed gives the same travellers and watchlist")
	f.IntVar(&o.MaxTravellers, "travellers", demo.DefaultMaxTravellers, "at most this many travellers (one per photographed person)")
	f.Int64Var(&o.Docs, "background-documents", demo.DefaultDocs, "synthetic document alerts besides the demo's (-1: none)")
	f.Int64Var(&o.Persons, "background-persons", demo.DefaultPersons, "synthetic listed persons besides the demo's (-1: none)")
	f.StringVar(&o.WebListen, "listen", demo.DefaultWebListen, "officer page address written into the config")
	f.StringVar(&o.HubListen, "hub-listen", demo.DefaultHubListen, "hub address written into the config")
	f.BoolVar(&o.Force, "force", false, "redo everything, replacing a prepared directory")
	f.BoolVarP(&verbose, "verbose", "v", false, "print each step on stderr")
	return c
}

func newDemoFeedCmd() *cobra.Command {
	var (
		o                           demo.FeedOptions
		file                        string
		chipsDir, vpcd, pcscdSocket string
	)
	c := &cobra.Command{
		Use:   "feed --port PTY --file travellers.mrz [--admin-socket SOCK]",
		Short: "Send each traveller's MRZ to the scanner while the camera video shows them",
		Long: `Play the travellers of FILE to the scanner port, lines framing (CR LF), in
step with the looping camera video: the daemon's admin socket (GET /v1/status,
camera.seq) tells which frame the camera has read, so each document is sent
in the middle of its traveller's segment (hold × fps frames) and the face
capture it starts sees the same person. Without the admin socket, documents go
out every --hold in file order. One line per document: which traveller and
whether a hit is expected (no personal data).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Port == "" || file == "" {
				return cli.Exit(2, errors.New("--port and --file are required"))
			}
			fh, err := os.Open(file)
			if err != nil {
				return cli.Exit(2, err)
			}
			o.File, err = demo.ReadFile(fh)
			fh.Close()
			if err != nil {
				return cli.Exit(2, err)
			}
			w := cmd.OutOrStdout()
			asJSON := jsonOutput(cmd)
			o.Report = func(s demo.Sent) {
				if asJSON {
					cli.WriteJSONLine(w, s)
					return
				}
				mode := fmt.Sprintf("frame %d", s.Frame)
				if !s.Synced {
					mode = "interval"
				}
				expect := "CLEAR"
				if s.Expect != "clear" {
					expect = "HIT (" + s.Expect[len("hit:"):] + ")"
				}
				switch s.Chip {
				case demo.ChipGenuine:
					expect += " · chip genuine"
				case demo.ChipAltered:
					expect = "REFER · chip with DG1 altered after signing"
				case demo.ChipOtherFace:
					expect = "REFER · chip photo of someone else"
				}
				fmt.Fprintf(w, "%s  traveller %2d/%d  %-11s expect %s\n", s.At.Format("15:04:05"), s.Traveller, s.Of, mode, expect)
			}
			o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			if chipsDir != "" && vpcd != "" {
				chips, err := demo.ReadChips(chipsDir)
				if err != nil {
					return cli.Exit(2, err)
				}
				o.Chips = &demo.ChipFeeder{Chips: chips, VPCD: vpcd, Socket: pcscdSocket}
				defer o.Chips.Close()
			}
			err = demo.Feed(cmd.Context(), o)
			if errors.Is(err, demo.ErrOptions) {
				return cli.Exit(2, err)
			}
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&o.Port, "port", "", "scanner side of the PTY pair")
	f.StringVar(&o.AdminSocket, "admin-socket", "", "the daemon's admin socket (state_dir/admin.sock)")
	f.StringVar(&file, "file", "", "travellers file written by demo prepare")
	f.DurationVar(&o.Hold, "hold", 0, "each traveller's time on camera (default: from the file)")
	f.Float64Var(&o.FPS, "fps", 0, "camera video frame rate (default: from the file)")
	f.IntVar(&o.Count, "count", 0, "documents to send (0: until interrupted)")
	f.StringVar(&chipsDir, "chips", "", "passport chips written by demo prepare (chips/)")
	f.StringVar(&vpcd, "vpcd", "", "the virtual reader's address (demo pcscd writes it)")
	f.StringVar(&pcscdSocket, "pcscd-socket", "", "pcscd's socket, to wait until it sees each chip")
	return c
}
