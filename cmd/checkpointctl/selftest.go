package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.bug.st/serial"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/diskstat"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

func init() { rootCmd.AddCommand(newSelftestCmd()) }

// Results of one selftest check.
const (
	selftestPass = "PASS"
	selftestFail = "FAIL"
	selftestSkip = "SKIP"
)

// selftestCheck is one line of the report (and of --json).
type selftestCheck struct {
	Check  string `json:"check"`
	Result string `json:"result"`
	Reason string `json:"reason"`
	Millis int64  `json:"ms"`
}

type selftestOptions struct {
	configPath    string
	loopback      string
	frameTimeout  time.Duration
	scannerWait   time.Duration
	chipWait      time.Duration
	storeLockWait time.Duration
}

// selftest runs the checks in order and hands each to emit as it
// finishes, so a slow one (models) does not hide the ones before it.
type selftest struct {
	opts selftestOptions
	emit func(selftestCheck) error

	cfg           *config.Config
	daemonRunning bool
	keyOK         map[string]bool
}

func newSelftestCmd() *cobra.Command {
	var o selftestOptions
	cmd := &cobra.Command{
		Use:   "selftest --config FILE [--loopback PEER]",
		Short: "Check config, scanner, camera, models, keys, state directory and disk; exit 1 if any check fails",
		Long: "Runs each check and prints PASS, FAIL or SKIP with the reason:\n" +
			"  config      the config file decodes strictly and validates\n" +
			"  state dir   exists, mode 0700, writable\n" +
			"  disk        free space on the state directory's file system\n" +
			"  key …       each key provider gives a 32-byte key-encryption key\n" +
			"  watchlist   the store opens read-only with its key (SKIP while checkpointd holds it)\n" +
			"  scanner     the configured port opens; with --loopback PEER, a generated MRZ written on\n" +
			"              PEER (the other end of a null-modem cable or socat PTY pair) is read back\n" +
			"  camera      a frame arrives within --frame-timeout\n" +
			"  models      face models match models_dir/SHA256SUMS and load\n" +
			"  chip reader pcscd answers on chip.socket and the reader (chip.reader) is plugged in;\n" +
			"              its name and whether a card is on it\n" +
			"  chip trust  the trust file (chip.trust) reads: CSCAs, countries, CRLs, expired anchors\n" +
			"Devices held by a running checkpointd are reported as SKIP.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			asJSON := jsonOutput(cmd)
			var failed, skipped, passed int
			st := &selftest{opts: o, keyOK: map[string]bool{}, emit: func(c selftestCheck) error {
				switch c.Result {
				case selftestFail:
					failed++
				case selftestSkip:
					skipped++
				default:
					passed++
				}
				if asJSON {
					return cli.WriteJSONLine(out, c)
				}
				_, err := fmt.Fprintf(out, "%s  %-14s %s\n", c.Result, c.Check, c.Reason)
				return err
			}}
			if err := st.run(cmd.Context()); err != nil {
				return err
			}
			summary := fmt.Sprintf("%d passed, %d failed, %d skipped", passed, failed, skipped)
			result := selftestPass
			if failed > 0 {
				result = selftestFail
			}
			if asJSON {
				if err := cli.WriteJSONLine(out, selftestCheck{Check: "summary", Result: result, Reason: summary}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "\nselftest %s: %s\n", result, summary)
			}
			if failed > 0 {
				return cli.Exit(1, fmt.Errorf("selftest: %d of %d checks failed", failed, passed+failed+skipped))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.configPath, "config", techDefaultConfig, "checkpointd's config")
	f.StringVar(&o.loopback, "loopback", "", "other end of a loopback (null-modem cable, socat PTY): write a generated MRZ there and read it back through the scanner")
	f.DurationVar(&o.frameTimeout, "frame-timeout", 5*time.Second, "how long the camera has to deliver a frame")
	f.DurationVar(&o.scannerWait, "scanner-timeout", 5*time.Second, "how long the scanner has to open (and, with --loopback, to read the document back)")
	f.DurationVar(&o.chipWait, "chip-timeout", 5*time.Second, "how long pcscd has to answer and list the chip reader")
	o.storeLockWait = time.Second
	return cmd
}

// check times fn and emits its result.
func (st *selftest) check(name string, fn func() (result, reason string)) error {
	t0 := time.Now()
	res, reason := fn()
	return st.emit(selftestCheck{Check: name, Result: res, Reason: reason, Millis: time.Since(t0).Milliseconds()})
}

func stPass(format string, a ...any) (string, string) { return selftestPass, fmt.Sprintf(format, a...) }
func stFail(format string, a ...any) (string, string) { return selftestFail, fmt.Sprintf(format, a...) }
func stSkip(format string, a ...any) (string, string) { return selftestSkip, fmt.Sprintf(format, a...) }

func (st *selftest) run(ctx context.Context) error {
	var cfgErr error
	if err := st.check("config", func() (string, string) {
		st.cfg, cfgErr = config.Load(st.opts.configPath)
		if cfgErr != nil {
			return stFail("%s", strings.ReplaceAll(cfgErr.Error(), "\n", "; "))
		}
		return stPass("%s: unit %s (%s), state dir %s", st.opts.configPath, st.cfg.Unit.ID, st.cfg.Unit.Mode, st.cfg.StateDir)
	}); err != nil {
		return err
	}
	names := []string{"state dir", "disk", "key watchlist", "key outbox", "watchlist", "scanner", "camera", "models", "chip reader", "chip trust"}
	if cfgErr != nil {
		for _, n := range names {
			if err := st.emit(selftestCheck{Check: n, Result: selftestSkip, Reason: "no valid config"}); err != nil {
				return err
			}
		}
		return nil
	}
	// A running daemon holds the devices and the store: what cannot be
	// opened then is reported as SKIP, not as a fault.
	_, err := statusFetch(ctx, filepath.Join(st.cfg.StateDir, statusAdminSocket))
	st.daemonRunning = err == nil

	steps := []struct {
		name string
		fn   func() (string, string)
	}{
		{"state dir", st.stateDir},
		{"disk", st.disk},
		{"key watchlist", func() (string, string) { return st.key("watchlist", st.cfg.Watchlist.Key) }},
		{"key outbox", func() (string, string) { return st.key("outbox", st.cfg.Outbox.Key) }},
		{"watchlist", st.watchlist},
		{"scanner", func() (string, string) { return st.scanner(ctx) }},
		{"camera", func() (string, string) { return st.camera(ctx) }},
		{"models", st.models},
		{"chip reader", func() (string, string) { return st.chipReader(ctx) }},
		{"chip trust", st.chipTrust},
	}
	for _, s := range steps {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := st.check(s.name, s.fn); err != nil {
			return err
		}
	}
	return nil
}

func (st *selftest) stateDir() (string, string) {
	dir := st.cfg.StateDir
	fi, err := os.Stat(dir)
	if err != nil {
		return stFail("%v", err)
	}
	if !fi.IsDir() {
		return stFail("%s is not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		return stFail("%s has mode %04o, want 0700 (it holds keys' work, the outbox and the audit log): chmod 0700 %s", dir, perm, dir)
	}
	f, err := os.CreateTemp(dir, ".selftest-*")
	if err != nil {
		return stFail("%s is not writable: %v", dir, err)
	}
	name := f.Name()
	_, werr := f.Write([]byte("selftest\n"))
	serr := f.Sync()
	cerr := f.Close()
	rerr := os.Remove(name)
	if err := errors.Join(werr, serr, cerr, rerr); err != nil {
		return stFail("%s: write test file: %v", dir, err)
	}
	return stPass("%s: mode 0700, writable", dir)
}

func (st *selftest) disk() (string, string) {
	u, err := diskstat.Stat(st.cfg.StateDir)
	if err != nil {
		return stFail("%v", err)
	}
	pct := 0.0
	if u.TotalBytes > 0 {
		pct = 100 * float64(u.FreeBytes) / float64(u.TotalBytes)
	}
	if u.Low {
		return stFail("only %s free of %s (%.1f%%) on %s: under %d%% or %s the outbox may refuse results", diskstat.Human(u.FreeBytes),
			diskstat.Human(u.TotalBytes), pct, u.Path, diskstat.LowPercent, diskstat.Human(diskstat.LowBytes))
	}
	return stPass("%s free of %s (%.0f%%) on %s", diskstat.Human(u.FreeBytes), diskstat.Human(u.TotalBytes), pct, u.Path)
}

func (st *selftest) key(which, spec string) (string, string) {
	kp, err := seal.ParseProvider(spec)
	if err != nil {
		return stFail("%s.key: %v", which, err)
	}
	kek, err := kp.KEK()
	if err != nil {
		return stFail("%s.key %s: %v", which, kp, err)
	}
	n := len(kek)
	seal.Wipe(kek)
	if n != 32 {
		return stFail("%s.key %s: %d-byte key, want 32", which, kp, n)
	}
	st.keyOK[which] = true
	return stPass("%s.key %s gives a 32-byte key", which, kp)
}

func (st *selftest) watchlist() (string, string) {
	path := st.cfg.Watchlist.Path
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return stSkip("no watchlist installed yet at %s", path)
	}
	if !st.keyOK["watchlist"] {
		return stSkip("watchlist key not available (see key watchlist)")
	}
	kp, err := seal.ParseProvider(st.cfg.Watchlist.Key)
	if err != nil {
		return stFail("%v", err)
	}
	s, err := watchlist.Open(path, kp, watchlist.Options{ReadOnly: true, Timeout: st.opts.storeLockWait})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return stSkip("%s is in use by checkpointd (locked)", path)
	case errors.Is(err, watchlist.ErrWrongKey):
		return stFail("%s: the key %s does not unwrap the store's data key (wrong key?)", path, kp)
	case err != nil:
		return stFail("%v", err)
	}
	m := s.Meta()
	if err := s.Close(); err != nil {
		return stFail("%s: close: %v", path, err)
	}
	if m.Sequence == 0 {
		return stPass("%s opens read-only with %s (empty: no version installed)", path, kp)
	}
	return stPass("%s opens read-only with %s: %s version %d, %d documents, %d persons, %d faces", path, kp,
		dash(m.WatchlistID), m.Sequence, m.Documents, m.Persons, m.Faces)
}

// scannerConfig is the daemon's scanner settings as the driver takes them.
func selftestScannerConfig(c config.Scanner) (scanner.Config, error) {
	framing, err := scanner.ParseFraming(c.Framing)
	if err != nil {
		return scanner.Config{}, err
	}
	return scanner.Config{
		Port: c.Port, VID: c.VID, PID: c.PID, Serial: c.Serial,
		Baud: c.Baud, DataBits: c.DataBits, Parity: c.Parity, StopBits: c.StopBits,
		Framing: framing, LineTimeout: c.LineTimeout.D(), RepeatWindow: -1,
		// Short waits: a technician is watching.
		Backoff: scanner.Backoff{Initial: 100 * time.Millisecond, Max: 500 * time.Millisecond, Factor: 2},
	}, nil
}

// selftestBusy reports whether err says another process holds the port.
func selftestBusy(err error) bool {
	var pe *serial.PortError
	if errors.As(err, &pe) && pe.Code() == serial.PortBusy {
		return true
	}
	var pv serial.PortError
	if errors.As(err, &pv) && pv.Code() == serial.PortBusy {
		return true
	}
	return errors.Is(err, syscall.EBUSY)
}

func (st *selftest) scanner(ctx context.Context) (string, string) {
	c := st.cfg.Scanner
	if !c.Enabled {
		return stSkip("scanner disabled in the config")
	}
	sc, err := selftestScannerConfig(c)
	if err != nil {
		return stFail("%v", err)
	}
	if c.Port != "" {
		// A configured path that does not exist will not appear while a
		// technician waits: say so at once.
		if _, err := os.Stat(c.Port); err != nil {
			return stFail("%s does not open: %v", c.Port, err)
		}
	}
	s, err := scanner.Open(sc, nil)
	if err != nil {
		return stFail("%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, st.opts.scannerWait)
	defer cancel()
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { s.Close(); <-done }()

	where := c.Port
	if where == "" {
		where = "usb " + c.VID + ":" + c.PID
	}
	// Wait for the port to open (Run retries in the background).
	for !s.State().Connected {
		select {
		case <-ctx.Done():
			stt := s.State()
			if st.daemonRunning && selftestBusy(stt.Err) {
				return stSkip("%s is in use by checkpointd", where)
			}
			if stt.Err != nil {
				return stFail("%s does not open within %v: %v", where, st.opts.scannerWait, stt.Err)
			}
			return stFail("%s does not open within %v", where, st.opts.scannerWait)
		case <-time.After(20 * time.Millisecond):
		}
	}
	port := s.State().Port
	parity := "N"
	if c.Parity != "" {
		parity = strings.ToUpper(c.Parity[:1])
	}
	mode := fmt.Sprintf("%d %d%s%d, framing %s", sc.Baud, c.DataBits, parity, c.StopBits, sc.Framing)
	if st.opts.loopback == "" {
		return stPass("%s opens (%s); use --loopback to read a document through it", port, mode)
	}

	spec := mrz.Random(rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)), mrz.FormatTD3, time.Now())
	lines, err := mrz.Generate(spec)
	if err != nil {
		return stFail("generate test document: %v", err)
	}
	frame, err := scanner.Encode(sc.Framing, lines)
	if err != nil {
		return stFail("encode test document: %v", err)
	}
	peer, err := os.OpenFile(st.opts.loopback, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return stFail("loopback peer: %v", err)
	}
	defer peer.Close()
	if _, err := peer.Write(frame); err != nil {
		return stFail("loopback peer %s: write: %v", st.opts.loopback, err)
	}
	for {
		select {
		case <-ctx.Done():
			return stFail("loopback: the document written on %s was not read back on %s within %v", st.opts.loopback, port, st.opts.scannerWait)
		case ev, ok := <-s.Events():
			if !ok {
				return stFail("loopback: scanner stopped before the document came back")
			}
			// The document is synthetic (specimen state Utopia), so its
			// lines may be compared and its format shown.
			if slices.Equal(ev.Lines, lines) {
				valid := "valid"
				if !ev.Document.Valid {
					valid = "INVALID"
				}
				return stPass("loopback: %s document written on %s read back on %s, %s (%s)", ev.Document.Format, st.opts.loopback, port, valid, mode)
			}
		}
	}
}

func (st *selftest) camera(ctx context.Context) (string, string) {
	c := st.cfg.Camera
	if !c.Enabled {
		return stSkip("camera disabled in the config")
	}
	cc := camera.Config{Device: c.Device, Width: c.Width, Height: c.Height, FPS: c.FPS, FourCC: c.FourCC,
		Backoff: camera.Backoff{Initial: 200 * time.Millisecond, Max: time.Second, Factor: 2}}
	cam, err := camera.Open(cc, nil)
	if err != nil {
		return stFail("%v", err)
	}
	defer cam.Close()
	ctx, cancel := context.WithTimeout(ctx, st.opts.frameTimeout)
	defer cancel()
	done := make(chan struct{})
	go func() { cam.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	t0 := time.Now()
	f, err := cam.Next(ctx, 0)
	if err != nil {
		stt := cam.State()
		why := err.Error()
		if stt.Err != nil {
			why = stt.Err.Error()
		}
		if st.daemonRunning {
			return stSkip("%s gave no frame while checkpointd runs (it holds the camera): %s", stt.Source, why)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return stFail("%s gave no frame within %v: %s", stt.Source, st.opts.frameTimeout, why)
		}
		return stFail("%s gave no frame: %s", stt.Source, why)
	}
	w, h := f.Mat.Cols(), f.Mat.Rows()
	f.Close()
	stt := cam.State()
	return stPass("%dx%d frame from %s in %v (%s %dx%d@%g, %s)", w, h, stt.Source, time.Since(t0).Round(time.Millisecond),
		dash(stt.Format.FourCC), stt.Format.Width, stt.Format.Height, stt.Format.FPS, dash(stt.Format.Backend))
}

func (st *selftest) models() (string, string) {
	if !st.cfg.Camera.Enabled {
		return stSkip("camera disabled: no face models needed")
	}
	v := st.cfg.Vision
	if fi, err := os.Stat(v.ModelsDir); err != nil {
		return stFail("models_dir: %v", err)
	} else if !fi.IsDir() {
		return stFail("models_dir %s is not a directory", v.ModelsDir)
	}
	sums, err := selftestCheckSums(v.ModelsDir)
	if err != nil {
		return stFail("%v", err)
	}
	r, err := facedlib.New(facedlib.Options{ModelsDir: v.ModelsDir, ShapePredictor: v.Landmarks, Detector: v.Detector, Workers: v.Workers})
	if err != nil {
		return stFail("%v", err)
	}
	id, points := r.ModelID(), r.LandmarkPoints()
	if err := r.Close(); err != nil {
		return stFail("close models: %v", err)
	}
	return stPass("loaded from %s: model %s, %s detector, %d landmarks, %d workers; %s", v.ModelsDir, id, v.Detector, points, v.Workers, sums)
}

// selftestCheckSums verifies every file SHA256SUMS lists that is present
// in dir. Listed files that are absent are fine (the CNN detector model is
// only needed with detector: cnn; New reports a missing required model).
func selftestCheckSums(dir string) (string, error) {
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	if errors.Is(err, fs.ErrNotExist) {
		return "no SHA256SUMS to check against", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	checked := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		want, name := strings.ToLower(fields[0]), strings.TrimPrefix(fields[1], "*")
		if name != filepath.Base(name) {
			continue // only files of this directory
		}
		mf, err := os.Open(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		h := sha256.New()
		_, err = io.Copy(h, mf)
		mf.Close()
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			return "", fmt.Errorf("%s: sha256 %s… does not match SHA256SUMS (%s…): damaged or replaced model", name, got[:16], want[:min(16, len(want))])
		}
		checked++
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("SHA256SUMS: %w", err)
	}
	return fmt.Sprintf("%d files match SHA256SUMS", checked), nil
}
