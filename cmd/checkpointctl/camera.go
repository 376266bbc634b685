package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
)

func init() { rootCmd.AddCommand(newCameraCmd()) }

func newCameraCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "camera",
		Short: "List cameras and take test pictures",
	}
	cmd.AddCommand(newCameraListCmd(), newCameraSnapCmd())
	return cmd
}

func newCameraListCmd() *cobra.Command {
	var sysfs, dev string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List V4L2 video devices (path, index, name, USB ids)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			devs, err := camera.List(sysfs, dev)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(devs) == 0 {
				msg := fmt.Sprintf("no cameras found (no V4L2 devices under %s)", filepath.Join(sysfs, "class", "video4linux"))
				if jsonOutput(cmd) {
					// Keep stdout a clean (empty) JSON-lines stream.
					fmt.Fprintln(cmd.ErrOrStderr(), msg)
				} else {
					fmt.Fprintln(out, msg)
				}
				return nil
			}
			if jsonOutput(cmd) {
				for _, d := range devs {
					if err := cli.WriteJSONLine(out, d); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PATH\tINDEX\tNAME\tUSB\tNODE")
			for _, d := range devs {
				usb := "-"
				if d.VendorID != "" {
					usb = d.VendorID + ":" + d.ProductID
				}
				node := "capture"
				if !d.Capture {
					node = fmt.Sprintf("metadata/other (%d)", d.NodeIndex)
				}
				if !d.Present {
					node += ", node missing"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", d.Path, d.Index, d.Name, usb, node)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&sysfs, "sysfs", "/sys", "sysfs mount point")
	cmd.Flags().StringVar(&dev, "dev", "/dev", "device directory")
	return cmd
}

// snapResult is what snap reports.
type snapResult struct {
	Path       string        `json:"path"`
	Width      int           `json:"width"`
	Height     int           `json:"height"`
	Bytes      int           `json:"bytes"`
	Seq        uint64        `json:"seq"`
	CapturedAt time.Time     `json:"captured_at"`
	Source     camera.Format `json:"source_format"`
}

func newCameraSnapCmd() *cobra.Command {
	var (
		cfg     camera.Config
		out     string
		warmup  int
		quality int
		retries int
		timeout time.Duration
		force   bool
	)
	cmd := &cobra.Command{
		Use:   "snap --device D --out FILE",
		Short: "Take one picture from a camera, video file or pipeline",
		Long: `Opens the source as the daemon would, lets it settle for --warmup frames
(auto exposure and white balance), waits for a fresh frame and writes it as
JPEG or PNG, chosen by the extension of --out. The picture may show a person:
it is written with mode 0600 and should be deleted once checked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch strings.ToLower(filepath.Ext(out)) {
			case ".jpg", ".jpeg", ".png":
			default:
				return cli.Exit(2, fmt.Errorf("--out %q: the name must end in .jpg, .jpeg or .png", out))
			}
			if warmup < 0 || retries < 0 || timeout <= 0 || quality < 1 || quality > 100 {
				return cli.Exit(2, errors.New("--warmup and --retries must be >= 0, --timeout > 0, --quality 1..100"))
			}
			if !force {
				if _, err := os.Stat(out); err == nil {
					return cli.Exit(2, fmt.Errorf("%s exists: refusing to overwrite (use --force)", out))
				}
			}
			cfg.MaxRetries = retries
			cfg.Backoff = camera.Backoff{Initial: 200 * time.Millisecond, Max: 2 * time.Second}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			c, err := camera.Open(cfg, logger)
			if err != nil {
				return cli.Exit(2, err)
			}
			defer c.Close()
			res, err := snap(cmd.Context(), c, out, warmup, quality, timeout)
			if err != nil {
				return err
			}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), res)
			}
			s := res.Source
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %dx%d, %d bytes, frame %d captured %s (source %dx%d %s %.4g fps via %s)\n",
				res.Path, res.Width, res.Height, res.Bytes, res.Seq, res.CapturedAt.Format(time.RFC3339Nano),
				s.Width, s.Height, s.FourCC, s.FPS, s.Backend)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Device, "device", "", `camera ("/dev/video0" or an index such as "0"), video file, or GStreamer pipeline`)
	f.StringVar(&out, "out", "", "picture to write (.jpg, .jpeg or .png)")
	f.IntVar(&cfg.Width, "width", 0, "requested width (with --height; 0: driver default)")
	f.IntVar(&cfg.Height, "height", 0, "requested height")
	f.Float64Var(&cfg.FPS, "fps", 0, "requested frame rate (0: driver default)")
	f.StringVar(&cfg.FourCC, "fourcc", "", `requested pixel format, e.g. "MJPG" or "YUYV"`)
	f.IntVar(&warmup, "warmup", 5, "frames to discard first, while exposure settles")
	f.IntVar(&quality, "quality", 90, "JPEG quality")
	f.IntVar(&retries, "retries", 2, "attempts to reopen a failing source before giving up")
	f.DurationVar(&timeout, "timeout", 15*time.Second, "give up when no frame arrives within this time")
	f.BoolVar(&force, "force", false, "overwrite --out")
	_ = cmd.MarkFlagRequired("device")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func snap(ctx context.Context, c *camera.Capture, out string, warmup, quality int, timeout time.Duration) (snapResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	stop := func() error { cancel(); return <-runErr }

	f, err := c.Next(ctx, uint64(warmup))
	if err != nil {
		rerr := stop()
		st := c.State()
		switch {
		case rerr != nil:
			return snapResult{}, rerr
		case errors.Is(err, camera.ErrEnded):
			return snapResult{}, fmt.Errorf("source ended after %d frames, before %d warm-up frames had passed", st.Seq, warmup)
		case errors.Is(err, context.DeadlineExceeded):
			if st.Err != nil {
				return snapResult{}, fmt.Errorf("no frame within %v (%s): %w", timeout, st.Status, st.Err)
			}
			return snapResult{}, fmt.Errorf("no frame within %v (%s)", timeout, st.Status)
		}
		return snapResult{}, err
	}
	defer f.Close()
	if err := stop(); err != nil {
		return snapResult{}, err
	}
	data, err := f.Encode(out, quality)
	if err != nil {
		return snapResult{}, err
	}
	if err := atomicfile.WriteFile(out, data, 0o600); err != nil {
		return snapResult{}, fmt.Errorf("write %s: %w", out, err)
	}
	return snapResult{
		Path: out, Width: f.Mat.Cols(), Height: f.Mat.Rows(), Bytes: len(data),
		Seq: f.Seq, CapturedAt: f.At.UTC(), Source: c.State().Format,
	}, nil
}
