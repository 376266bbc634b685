package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Version is the configuration format this build reads.
const Version = 1

// Config is checkpointd's whole configuration.
type Config struct {
	// Path and Hash (SHA-256 of the file) say where the configuration came
	// from; the daemon audits a changed hash.
	Path string `yaml:"-"`
	Hash string `yaml:"-"`

	Version   int       `yaml:"version"`
	Unit      Unit      `yaml:"unit"`
	StateDir  string    `yaml:"state_dir"`
	Scanner   Scanner   `yaml:"scanner"`
	Camera    Camera    `yaml:"camera"`
	Chip      Chip      `yaml:"chip"`
	Vision    Vision    `yaml:"vision"`
	Watchlist Watchlist `yaml:"watchlist"`
	Channels  Channels  `yaml:"channels"`
	Paxdata   Paxdata   `yaml:"paxdata"`
	Policy    Policy    `yaml:"policy"`
	Outbox    Outbox    `yaml:"outbox"`
	Hub       Hub       `yaml:"hub"`
	Web       Web       `yaml:"web"`
	Officer   Officer   `yaml:"officer"`
	Gate      Gate      `yaml:"gate"`
	Audit     Audit     `yaml:"audit"`
	Log       Log       `yaml:"log"`
}

// Unit identifies the box.
type Unit struct {
	ID   string `yaml:"id"`
	Mode string `yaml:"mode"` // desk or egate
	Site string `yaml:"site"`
}

// Scanner is the serial document reader.
type Scanner struct {
	Enabled     bool     `yaml:"enabled"`
	Port        string   `yaml:"port"` // /dev/ttyUSB0, or empty with vid/pid
	VID         string   `yaml:"vid"`
	PID         string   `yaml:"pid"`
	Serial      string   `yaml:"serial"`
	Baud        int      `yaml:"baud"`
	DataBits    int      `yaml:"data_bits"`
	Parity      string   `yaml:"parity"` // none, even, odd
	StopBits    int      `yaml:"stop_bits"`
	Framing     string   `yaml:"framing"` // lines, stx, stx-bcc, vendor, json
	LineTimeout Duration `yaml:"line_timeout"`
	Autocorrect bool     `yaml:"autocorrect"`
}

// Camera is the face camera.
type Camera struct {
	Enabled bool    `yaml:"enabled"`
	Device  string  `yaml:"device"` // /dev/video0, an index, a video file or a GStreamer pipeline
	Width   int     `yaml:"width"`
	Height  int     `yaml:"height"`
	FPS     float64 `yaml:"fps"`
	FourCC  string  `yaml:"fourcc"`
	Loop    bool    `yaml:"loop"` // replay a video file forever (demo)
}

// Chip is the contactless reader for the passport chip (through pcscd).
type Chip struct {
	Enabled bool   `yaml:"enabled"`
	Socket  string `yaml:"socket"` // pcscd's socket; empty: PCSCLITE_CSOCK_NAME or /run/pcscd/pcscd.comm
	Reader  string `yaml:"reader"` // the reader whose name contains this; empty: the first
	// Trust is the unit's CSCA and CRL file (PEM), written by
	// `checkpointctl chip trust import` and the trust bundle channel;
	// default <state_dir>/chip-trust.pem.
	Trust        string   `yaml:"trust"`
	ReadTimeout  Duration `yaml:"read_timeout"`  // the whole read (access, files, clone checks)
	PresentWait  Duration `yaml:"present_wait"`  // how long after the scan a chip may take to appear
	APDUTimeout  Duration `yaml:"apdu_timeout"`  // one command
	ResumeWindow Duration `yaml:"resume_window"` // a card taken off may come back within this
	RequireCRL   bool     `yaml:"require_crl"`   // no CRL for the issuing state fails passive authentication
}

// Vision configures face detection and embedding.
type Vision struct {
	ModelsDir     string   `yaml:"models_dir"`
	Landmarks     string   `yaml:"landmarks"`
	Detector      string   `yaml:"detector"` // hog or cnn
	Workers       int      `yaml:"workers"`
	CaptureWindow Duration `yaml:"capture_window"`
	// Embedder is dlib (default: dlib's ResNet, clear licence) or onnx
	// (Model: an ONNX model's metadata file, see models/README.md).
	Embedder string `yaml:"embedder"`
	Model    string `yaml:"model"`
	// CNNFallback runs the CNN detector on frames where HOG finds no face
	// (0.4-0.8 s per frame on one core: off at the lane by default).
	CNNFallback bool `yaml:"cnn_fallback"`
	// Flip averages each face's embedding with its mirror image's (one
	// more network pass per face).
	Flip bool `yaml:"flip"`
	// FuseFrames is how many of the best frames of a capture are embedded
	// and averaged into the probe (1 = the best frame only).
	FuseFrames int `yaml:"fuse_frames"`
}

// Watchlist configures the local encrypted watchlist and its updates.
type Watchlist struct {
	ID       string   `yaml:"id"` // the watchlist pulled from the hub
	Path     string   `yaml:"path"`
	Key      string   `yaml:"key"` // file:PATH, credential:NAME or env:VAR (tests)
	MaxAge   Duration `yaml:"max_age"`
	Trust    string   `yaml:"trust"`    // root-of-trust file
	Identity string   `yaml:"identity"` // the unit's age identity (file:, credential:)
	MaxSize  int64    `yaml:"max_bundle_bytes"`
	// Face sets the bands of the 1:N face search (face.go).
	Face FaceSearch `yaml:"face"`
}

// Policy turns match results into decisions.
type Policy struct {
	ReferWhenStale     bool    `yaml:"refer_when_stale"`
	ReferWithoutFace   bool    `yaml:"refer_without_face"`
	ReferInvalidMRZ    bool    `yaml:"refer_invalid_mrz"`
	FaceSearchDistance float32 `yaml:"face_search_distance"` // 1:N threshold; 0 = calibrated default
	FaceImages         string  `yaml:"face_images"`          // which results carry the face image: hits, all, none
	// Person matching levels (watchlist.Thresholds); 0 = the tuned
	// default. A score at or above person_hit_score with the evidence of
	// person_hit_evidence is a HIT; at or above the possible ones a
	// POSSIBLE match that the officer judges (the lane refers).
	PersonHitScore         float64 `yaml:"person_hit_score"`
	PersonPossibleScore    float64 `yaml:"person_possible_score"`
	PersonHitEvidence      float64 `yaml:"person_hit_evidence"`
	PersonPossibleEvidence float64 `yaml:"person_possible_evidence"`
	// Chip policy: which documents should have a chip (passports, all,
	// none), and which chip findings make the lane REFER.
	ChipExpected         string  `yaml:"chip_expected"`
	ReferChipIntegrity   bool    `yaml:"refer_chip_integrity"`     // PA invalid, DG1 ≠ print, clone check failed
	ReferChipFace        bool    `yaml:"refer_chip_face_mismatch"` // live face ≠ chip photo
	ReferChipUnreadable  bool    `yaml:"refer_chip_unreadable"`    // an expected chip gave nothing
	ReferChipNotVerified bool    `yaml:"refer_chip_not_verified"`  // no CSCA for the issuing state
	FaceVerifyDistance   float32 `yaml:"face_verify_distance"`     // 1:1 threshold; 0 = calibrated default
}

// Outbox is the durable queue of results for headquarters.
type Outbox struct {
	Path         string `yaml:"path"`
	Key          string `yaml:"key"`
	RoutineQuota int64  `yaml:"routine_quota_bytes"`
}

// Hub is headquarters.
type Hub struct {
	URL string `yaml:"url"` // empty: offline post, hand-carry only
	// URLs are further hub replicas, tried in turn when one is unreachable.
	URLs []string `yaml:"urls"`
	// BundleURLs, if set, are where watchlist bundles are pulled from
	// instead of <url>/v1/bundles/ (e.g. an S3-compatible store); tried
	// in turn.
	BundleURLs   []string `yaml:"bundle_urls"`
	CA           string   `yaml:"ca"`
	Cert         string   `yaml:"cert"`
	Key          string   `yaml:"key"`
	PollInterval Duration `yaml:"poll_interval"`
	MaxBandwidth int64    `yaml:"max_bandwidth_bytes_per_second"`
}

// Web is the officer's page.
type Web struct {
	Listen     string   `yaml:"listen"`
	TLSCert    string   `yaml:"tls_cert"`
	TLSKey     string   `yaml:"tls_key"`
	Accounts   string   `yaml:"accounts"` // officer accounts file (hashed PINs)
	SessionTTL Duration `yaml:"session_ttl"`
	Metrics    bool     `yaml:"metrics"` // serve /metrics on this page, to signed-in officers only (the admin socket always serves it)
	// SignInSocket, when set, lets officers mapped to an OS user sign in
	// as that user (checkpointctl officer signin) instead of typing a PIN.
	SignInSocket string `yaml:"signin_socket"`
}

// Officer is how the officer's page presents hits.
type Officer struct {
	// Language is the page's language for officers whose account names
	// none (checkpointctl officer add --lang): one of OfficerLanguages.
	Language string `yaml:"language"`
	// Sound plays a tone on every HIT, never on a discreet one.
	Sound bool `yaml:"sound"`
	// Discreet hits are shown so that the traveller at the desk cannot
	// read them off the screen: no red banner, no category in words.
	Discreet Discreet `yaml:"discreet"`
}

// Discreet selects the hits shown discreetly: any hit whose action or
// category is listed.
type Discreet struct {
	Actions    []string `yaml:"actions"`    // arrest, refer, discreet_check, alert_only
	Categories []string `yaml:"categories"` // watchlist categories, e.g. foreign_terrorist_fighter
}

// OfficerLanguages are the languages the officer's page ships catalogues
// for (web/assets/i18n).
var OfficerLanguages = []string{"en", "fr", "ar"}

// hitActions are the watchlist's action codes (watchlist.Action*).
var hitActions = []string{"arrest", "refer", "discreet_check", "alert_only"}

// Gate is the e-gate controller API.
type Gate struct {
	Socket    string `yaml:"socket"`     // Unix socket (default)
	Listen    string `yaml:"listen"`     // optional TCP address; needs a token
	TokenFile string `yaml:"token_file"` // bearer token for TCP clients
}

// Audit is the hash-chained audit log.
type Audit struct {
	Path string `yaml:"path"`
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// Duration reads "3s", "48h" and friends.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 3s, 48h)", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Default returns a configuration with every default filled, for stateDir.
func Default(stateDir string) Config {
	return Config{
		Version:  Version,
		Unit:     Unit{Mode: "desk"},
		StateDir: stateDir,
		Scanner:  Scanner{Enabled: true, Baud: 9600, DataBits: 8, Parity: "none", StopBits: 1, Framing: "lines", LineTimeout: Duration(300 * time.Millisecond), Autocorrect: true},
		Camera:   Camera{Enabled: true, Device: "/dev/video0", Width: 640, Height: 480, FPS: 15, FourCC: "MJPG"},
		Chip: Chip{ReadTimeout: Duration(5 * time.Second), PresentWait: Duration(time.Second),
			APDUTimeout: Duration(3 * time.Second), ResumeWindow: Duration(2 * time.Second)},
		Vision: Vision{
			ModelsDir: "/usr/local/share/checkpoint/models", Landmarks: "/usr/share/dlib/shape_predictor_68_face_landmarks.dat",
			Detector: "hog", Workers: 2, CaptureWindow: Duration(2 * time.Second),
			Embedder: "dlib", FuseFrames: 3,
		},
		Watchlist: Watchlist{ID: "national", Key: "credential:watchlist.kek", MaxAge: Duration(48 * time.Hour), Identity: "credential:unit.age", MaxSize: 2 << 30,
			Face: DefaultFaceSearch()},
		Policy: Policy{ReferWhenStale: false, ReferWithoutFace: true, ReferInvalidMRZ: true, FaceImages: "hits",
			ChipExpected: "passports", ReferChipIntegrity: true, ReferChipFace: true, ReferChipUnreadable: true},
		Outbox:  Outbox{Key: "credential:outbox.kek", RoutineQuota: 1 << 30},
		Hub:     Hub{PollInterval: Duration(15 * time.Minute)},
		Web:     Web{Listen: "127.0.0.1:8080", SessionTTL: Duration(8 * time.Hour), Metrics: true},
		Officer: Officer{Language: "en", Sound: true, Discreet: Discreet{Actions: []string{"discreet_check"}}},
		Gate:    Gate{},
		Log:     Log{Level: "info", Format: "json"},
	}
}

// Load reads, decodes strictly and validates the file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	sum := sha256.Sum256(b)
	c.Path, c.Hash = path, hex.EncodeToString(sum[:])
	return c, nil
}

// Parse decodes YAML onto the defaults and validates the result.
func Parse(b []byte) (*Config, error) {
	// Peek at the version first so an old or future file gets a clear
	// message rather than a list of unknown keys.
	var head struct {
		Version int `yaml:"version"`
	}
	if err := yaml.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	if head.Version != Version {
		return nil, fmt.Errorf("version %d is not supported (this build reads version %d)", head.Version, Version)
	}
	var probe struct {
		StateDir string `yaml:"state_dir"`
	}
	_ = yaml.Unmarshal(b, &probe)
	c := Default(probe.StateDir)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	c.fillPaths()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// fillPaths derives state files from StateDir where they were not given.
func (c *Config) fillPaths() {
	if c.StateDir == "" {
		return
	}
	def := func(p *string, name string) {
		if *p == "" {
			*p = filepath.Join(c.StateDir, name)
		}
	}
	def(&c.Watchlist.Path, "watchlist.db")
	def(&c.Outbox.Path, "outbox.db")
	def(&c.Audit.Path, "audit.log")
	def(&c.Chip.Trust, "chip-trust.pem")
	def(&c.Channels.Path, "channels.db")
	def(&c.Paxdata.Path, "paxdata.db")
	if c.Gate.Socket == "" && c.Gate.Listen == "" {
		c.Gate.Socket = filepath.Join(c.StateDir, "gate.sock")
	}
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Unit.ID == "" {
		bad("unit.id", "required (the unit's name, as in its TLS certificate)")
	}
	if c.Unit.Mode != "desk" && c.Unit.Mode != "egate" {
		bad("unit.mode", "%q: want desk or egate", c.Unit.Mode)
	}
	if c.StateDir == "" {
		bad("state_dir", "required")
	}
	if c.Scanner.Enabled {
		if c.Scanner.Port == "" && (c.Scanner.VID == "" || c.Scanner.PID == "") {
			bad("scanner", "give port, or vid and pid")
		}
		switch c.Scanner.Framing {
		case "lines", "stx", "stx-bcc", "vendor", "json":
		default:
			bad("scanner.framing", "%q: want lines, stx, stx-bcc, vendor or json", c.Scanner.Framing)
		}
		if c.Scanner.Baud <= 0 {
			bad("scanner.baud", "must be positive")
		}
		switch c.Scanner.Parity {
		case "none", "even", "odd":
		default:
			bad("scanner.parity", "%q: want none, even or odd", c.Scanner.Parity)
		}
	}
	if c.Camera.Enabled {
		if c.Camera.Device == "" {
			bad("camera.device", "required when the camera is enabled")
		}
		if c.Camera.Width < 0 || c.Camera.Height < 0 || c.Camera.FPS < 0 {
			bad("camera", "width, height and fps must not be negative")
		}
		if c.Vision.ModelsDir == "" {
			bad("vision.models_dir", "required when the camera is enabled")
		}
		if c.Vision.Detector != "hog" && c.Vision.Detector != "cnn" {
			bad("vision.detector", "%q: want hog or cnn", c.Vision.Detector)
		}
		if c.Vision.Workers < 1 {
			bad("vision.workers", "at least 1")
		}
		if c.Vision.CaptureWindow.D() <= 0 || c.Vision.CaptureWindow.D() > 30*time.Second {
			bad("vision.capture_window", "between 0 and 30s")
		}
		c.validateVisionModel(bad)
	}
	c.Watchlist.Face.validate(bad)
	if c.Chip.Enabled {
		for _, d := range []struct {
			name string
			v    Duration
		}{{"read_timeout", c.Chip.ReadTimeout}, {"present_wait", c.Chip.PresentWait}, {"apdu_timeout", c.Chip.APDUTimeout}, {"resume_window", c.Chip.ResumeWindow}} {
			if d.v.D() <= 0 || d.v.D() > time.Minute {
				bad("chip."+d.name, "between 0 and 1m")
			}
		}
	}
	switch c.Policy.ChipExpected {
	case "passports", "all", "none":
	default:
		bad("policy.chip_expected", "%q: want passports, all or none", c.Policy.ChipExpected)
	}
	if c.Policy.FaceVerifyDistance < 0 || c.Policy.FaceVerifyDistance > 2 {
		bad("policy.face_verify_distance", "between 0 and 2")
	}
	if c.Watchlist.Key == "" {
		bad("watchlist.key", "required (file:PATH or credential:NAME)")
	}
	if strings.HasPrefix(c.Watchlist.Key, "env:") && c.Unit.Mode == "egate" {
		bad("watchlist.key", "env: keys are for tests only")
	}
	if c.Watchlist.MaxAge.D() <= 0 {
		bad("watchlist.max_age", "must be positive")
	}
	if c.Outbox.Key == "" {
		bad("outbox.key", "required")
	}
	for name, v := range map[string]float64{"person_hit_score": c.Policy.PersonHitScore, "person_possible_score": c.Policy.PersonPossibleScore} {
		if v < 0 || v > 1 {
			bad("policy."+name, "between 0 and 1 (0 = default)")
		}
	}
	for name, v := range map[string]float64{"person_hit_evidence": c.Policy.PersonHitEvidence, "person_possible_evidence": c.Policy.PersonPossibleEvidence} {
		if v < 0 || v > 10 {
			bad("policy."+name, "between 0 and 10 (0 = default)")
		}
	}
	if c.Policy.PersonHitScore > 0 && c.Policy.PersonPossibleScore > c.Policy.PersonHitScore {
		bad("policy.person_possible_score", "must not exceed person_hit_score")
	}
	switch c.Policy.FaceImages {
	case "hits", "all", "none":
	default:
		bad("policy.face_images", "%q: want hits, all or none", c.Policy.FaceImages)
	}
	if c.Hub.URL == "" && (len(c.Hub.URLs) > 0 || len(c.Hub.BundleURLs) > 0) {
		bad("hub.url", "required when hub.urls or hub.bundle_urls is set")
	}
	for i, u := range append(append([]string{}, c.Hub.URLs...), c.Hub.BundleURLs...) {
		if !strings.HasPrefix(u, "https://") {
			bad("hub.urls", "entry %d %q must be https://", i+1, u)
		}
	}
	if c.Hub.URL != "" {
		if !strings.HasPrefix(c.Hub.URL, "https://") {
			bad("hub.url", "must be https://")
		}
		if c.Hub.CA == "" || c.Hub.Cert == "" || c.Hub.Key == "" {
			bad("hub", "ca, cert and key are required for mutual TLS")
		}
		if c.Watchlist.Trust == "" || c.Watchlist.Identity == "" || c.Watchlist.ID == "" {
			bad("watchlist", "id, trust and identity are required to pull bundles from the hub")
		}
	}
	if c.Web.Listen != "" {
		host, _, err := net.SplitHostPort(c.Web.Listen)
		if err != nil {
			bad("web.listen", "%v", err)
		} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) && c.Web.TLSCert == "" {
			bad("web.listen", "%s is reachable from other hosts: serve on loopback, or give tls_cert and tls_key", c.Web.Listen)
		}
		if (c.Web.TLSCert == "") != (c.Web.TLSKey == "") {
			bad("web", "tls_cert and tls_key go together")
		}
		if c.Web.Accounts == "" {
			bad("web.accounts", "required: the officer accounts file")
		}
	} else if c.Web.SignInSocket != "" {
		bad("web.signin_socket", "needs web.listen: the sign-in link opens the officer page")
	}
	c.validateOfficer(bad)
	errs = append(errs, c.validateChannels()...)
	errs = append(errs, c.validatePaxdata()...)
	if c.Gate.Listen != "" && c.Gate.TokenFile == "" {
		bad("gate.token_file", "required when gate.listen (TCP) is set")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		bad("log.format", "%q: want json or text", c.Log.Format)
	}
	return errors.Join(errs...)
}

// categoryPattern is what a watchlist category code looks like.
var categoryPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

func (c *Config) validateOfficer(bad func(field, format string, args ...any)) {
	if !slices.Contains(OfficerLanguages, c.Officer.Language) {
		bad("officer.language", "%q: want one of %s", c.Officer.Language, strings.Join(OfficerLanguages, ", "))
	}
	for _, a := range c.Officer.Discreet.Actions {
		if !slices.Contains(hitActions, a) {
			bad("officer.discreet.actions", "%q: want %s", a, strings.Join(hitActions, ", "))
		}
	}
	for _, cat := range c.Officer.Discreet.Categories {
		if !categoryPattern.MatchString(cat) {
			bad("officer.discreet.categories", "%q: a category code is lower-case letters, digits, '_' or '-' (e.g. foreign_terrorist_fighter)", cat)
		}
	}
}
