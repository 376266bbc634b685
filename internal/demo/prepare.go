package demo

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/device/camera/cameratest"
	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
	"github.com/checkpoint-edge/checkpoint/vision/facepipe"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/synth"
	"github.com/checkpoint-edge/checkpoint/web"
)

// Demo constants: the officer who signs in, the unit and the watchlist.
const (
	Officer     = "demo"
	OfficerName = "Demo Officer"
	PIN         = "246810"
	UnitID      = "desk-01"
	WatchlistID = "national"
	Authority   = "Checkpoint demo HQ"
)

// Defaults of Options.
const (
	DefaultHold          = 6 * time.Second
	DefaultFPS           = 10.0
	DefaultMaxTravellers = 15
	DefaultDocs          = 20_000
	DefaultPersons       = 2_000
	DefaultWebListen     = "127.0.0.1:8080"
	DefaultHubListen     = "127.0.0.1:8443"
	// bundleValidity is how long a demo bundle stays unexpired; bundles
	// older than refreshAfter are rebuilt (as a new sequence) when a
	// prepared directory is reused, so the demo never shows STALE.
	bundleValidity = 7 * 24 * time.Hour
	refreshAfter   = 12 * time.Hour
	manifestFormat = 1
)

// Options configure Prepare.
type Options struct {
	Dir       string // the demo directory (created)
	FacesDir  string // labelled photos; "" = vision.FindFaces
	ModelsDir string // face models; "" = vision.FindModels
	// Model is the ONNX face model's metadata file the demo unit runs;
	// "" = <ModelsDir>/mobilefacenet.json, else vision.FindONNXModel.
	// The demo lists each wanted person from another photo than the one
	// the camera shows, and only the better model finds people that way
	// at the calibrated bands (README, face figures).
	Model string
	// Landmarks is the 68-point landmark model; "" = Debian's.
	Landmarks     string
	Hold          time.Duration // each traveller on camera; 0 = DefaultHold
	FPS           float64       // video frame rate; 0 = DefaultFPS
	Seed          uint64
	MaxTravellers int   // 0 = DefaultMaxTravellers
	Docs, Persons int64 // background records; 0 = defaults, <0 = none
	// WebListen and HubListen go into the unit's configuration (written on
	// every run, so a reused directory can move to free ports).
	WebListen, HubListen string
	// Force redoes everything; otherwise a prepared directory made with the
	// same options is reused.
	Force   bool
	Workers int // face analysis goroutines; 0 = 2
	Now     func() time.Time
	// Logger receives progress steps (no personal data); nil discards.
	Logger *slog.Logger
}

func (o *Options) fill() error {
	if o.Dir == "" {
		return fmt.Errorf("%w: a directory is required", ErrOptions)
	}
	if o.Hold == 0 {
		o.Hold = DefaultHold
	}
	if o.FPS == 0 {
		o.FPS = DefaultFPS
	}
	if o.Hold < 2*time.Second || o.Hold > 10*time.Minute {
		return fmt.Errorf("%w: hold %s: want 2s to 10m (the capture needs time)", ErrOptions, o.Hold)
	}
	if !(o.FPS >= 1 && o.FPS <= 60) {
		return fmt.Errorf("%w: fps %g: want 1 to 60", ErrOptions, o.FPS)
	}
	if o.MaxTravellers == 0 {
		o.MaxTravellers = DefaultMaxTravellers
	}
	if o.MaxTravellers < 1 || o.MaxTravellers > len(names) {
		return fmt.Errorf("%w: travellers %d: want 1 to %d", ErrOptions, o.MaxTravellers, len(names))
	}
	if o.Docs == 0 {
		o.Docs = DefaultDocs
	}
	if o.Persons == 0 {
		o.Persons = DefaultPersons
	}
	o.Docs, o.Persons = max(o.Docs, 0), max(o.Persons, 0)
	if o.WebListen == "" {
		o.WebListen = DefaultWebListen
	}
	if o.HubListen == "" {
		o.HubListen = DefaultHubListen
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var err error
	if o.FacesDir == "" {
		if o.FacesDir, err = vision.FindFaces(); err != nil {
			return fmt.Errorf("%w: labelled photos: %w (give --faces or set CHECKPOINT_FACES)", ErrOptions, err)
		}
	}
	if o.ModelsDir == "" {
		if o.ModelsDir, err = vision.FindModels(); err != nil {
			return fmt.Errorf("%w: face models: %w (give --models or run make models)", ErrOptions, err)
		}
	}
	if o.Landmarks == "" {
		o.Landmarks = facedlib.DefaultShapePredictor
	}
	if o.Model == "" {
		o.Model = filepath.Join(o.ModelsDir, "mobilefacenet.json")
		if _, err := os.Stat(o.Model); err != nil {
			if o.Model, err = vision.FindONNXModel(); err != nil {
				return fmt.Errorf("%w: face model: %w (run make models)", ErrOptions, err)
			}
		}
	}
	for _, p := range []*string{&o.Dir, &o.FacesDir, &o.ModelsDir, &o.Landmarks, &o.Model} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	// Checked here, before anything is written, so a wrong path costs nothing.
	if st, err := os.Stat(o.FacesDir); err != nil || !st.IsDir() {
		return fmt.Errorf("%w: labelled photos: %s is not a directory", ErrOptions, o.FacesDir)
	}
	for _, f := range []string{filepath.Join(o.ModelsDir, vision.EmbeddingModelFile), o.Landmarks, o.Model} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%w: face model: %w (run make models / make deps)", ErrOptions, err)
		}
	}
	return nil
}

// Manifest is demo.json: what was prepared, so a later run can reuse it.
// It holds no names or document numbers (those are in travellers.mrz).
type Manifest struct {
	Format        int           `json:"format"`
	CreatedAt     time.Time     `json:"created_at"`
	Seed          uint64        `json:"seed"`
	Hold          string        `json:"hold"`
	FPS           float64       `json:"fps"`
	MaxTravellers int           `json:"max_travellers"`
	Docs          int64         `json:"background_documents"`
	Persons       int64         `json:"background_persons"`
	FacesDir      string        `json:"faces_dir"`
	ModelsDir     string        `json:"models_dir"`
	FaceModel     string        `json:"face_model"` // the ONNX model's metadata file
	FaceModelID   string        `json:"face_model_id"`
	FaceDistance  float32       `json:"face_search_distance"`
	Officer       string        `json:"officer"`
	Travellers    []Traveller   `json:"travellers"`
	Bundle        BundleSummary `json:"bundle"`
}

// Traveller is one traveller as the manifest records it.
type Traveller struct {
	Index  int    `json:"index"` // 1-based, camera order
	Photo  string `json:"photo"` // the photo the camera shows
	Role   Role   `json:"role"`
	Expect string `json:"expect"` // clear, or hit:<kinds>
	// Template is the photo a listed face template was computed from.
	Template string `json:"template,omitempty"`
	// Chip is the traveller's passport chip role (chip_genuine,
	// chip_altered_dg1, chip_other_face); empty: no chip.
	Chip string `json:"chip,omitempty"`
}

// BundleSummary is the watchlist version published on the hub.
type BundleSummary struct {
	Sequence  uint64    `json:"sequence"`
	File      string    `json:"file"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Documents int64     `json:"documents"`
	Persons   int64     `json:"persons"`
	Faces     int64     `json:"faces"`
	KeyID     string    `json:"key_id"`
}

// Result is what Prepare did.
type Result struct {
	Manifest *Manifest
	Paths    Paths
	// Reused is true when an existing prepared directory was kept;
	// Refreshed when its bundle was rebuilt as a newer sequence.
	Reused, Refreshed bool
}

// Paths are the files of a prepared directory.
type Paths struct {
	Dir, Keys, State, Logs, HQ              string
	HubBundles, HubData                     string
	Manifest, Config, Travellers, Video     string
	Accounts, Trust, Identity               string
	SignInSocket                            string
	CACert, CAKey, HubCert, HubKey          string
	UnitCert, UnitKey                       string
	SigningKey, RootKey                     string
	WatchlistKEK, OutboxKEK, HubKEK, Source string
	AdminSocket, ScannerLink, ReaderLink    string
	// PaxInbox is the unit's pre-arrival inbox (airline passenger lists).
	PaxInbox string
}

// PathsOf lays out a demo directory.
func PathsOf(dir string) Paths {
	k := filepath.Join(dir, "keys")
	j := func(parts ...string) string { return filepath.Join(parts...) }
	return Paths{
		Dir: dir, Keys: k, State: j(dir, "state"), Logs: j(dir, "logs"), HQ: j(dir, "hq"),
		HubBundles: j(dir, "hub", "bundles"), HubData: j(dir, "hub", "data"),
		Manifest: j(dir, "demo.json"), Config: j(dir, "checkpointd.yaml"), Travellers: j(dir, "travellers.mrz"),
		Video: j(dir, "camera.avi"), Accounts: j(dir, "officers.json"), SignInSocket: j(dir, "state", "signin.sock"), Trust: j(k, "trust.json"),
		Identity: j(k, "unit.age"), CACert: j(k, "fleet-ca.crt"), CAKey: j(k, "fleet-ca.key"),
		HubCert: j(k, "hub.crt"), HubKey: j(k, "hub.key"), UnitCert: j(k, UnitID+".crt"), UnitKey: j(k, UnitID+".key"),
		SigningKey: j(k, "signing.key"), RootKey: j(k, "root.key"),
		WatchlistKEK: j(k, "watchlist.kek"), OutboxKEK: j(k, "outbox.kek"), HubKEK: j(k, "hub.kek"),
		Source: j(dir, "hq", "watchlist.jsonl"), AdminSocket: j(dir, "state", "admin.sock"),
		ScannerLink: j(dir, "scanner"), ReaderLink: j(dir, "reader"), PaxInbox: j(dir, "state", "paxdata-inbox"),
	}
}

// Prepare makes (or reuses) a demo directory.
func Prepare(ctx context.Context, o Options) (*Result, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	p := PathsOf(o.Dir)
	if !o.Force {
		if m, err := readManifest(p.Manifest); err == nil {
			if err := sameOptions(m, &o); err != nil {
				return nil, fmt.Errorf("%w: %s was prepared with other options (%w): give --force to redo it", ErrOptions, o.Dir, err)
			}
			return reuse(ctx, m, p, &o)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w (give --force to redo it)", p.Manifest, err)
		}
	}
	return prepareFresh(ctx, p, &o)
}

func sameOptions(m *Manifest, o *Options) error {
	switch {
	case m.Seed != o.Seed:
		return fmt.Errorf("seed %d", m.Seed)
	case m.Hold != o.Hold.String():
		return fmt.Errorf("hold %s", m.Hold)
	case m.FPS != o.FPS:
		return fmt.Errorf("fps %g", m.FPS)
	case m.MaxTravellers != o.MaxTravellers:
		return fmt.Errorf("travellers %d", m.MaxTravellers)
	case m.Docs != o.Docs || m.Persons != o.Persons:
		return fmt.Errorf("%d background documents and %d persons", m.Docs, m.Persons)
	case m.FacesDir != o.FacesDir:
		return fmt.Errorf("faces %s", m.FacesDir)
	case m.ModelsDir != o.ModelsDir:
		return fmt.Errorf("models %s", m.ModelsDir)
	case m.FaceModel != o.Model:
		return fmt.Errorf("face model %q", m.FaceModel)
	}
	return nil
}

func readManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("bad manifest: %w", err)
	}
	if m.Format != manifestFormat {
		return nil, fmt.Errorf("manifest format %d is not %d", m.Format, manifestFormat)
	}
	return &m, nil
}

func writeJSON(path string, v any, perm os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), perm)
}

// reuse keeps a prepared directory: it checks that its files are there,
// rebuilds the bundle as the next sequence when it has aged, and rewrites
// the unit's configuration for the addresses asked for.
func reuse(ctx context.Context, m *Manifest, p Paths, o *Options) (*Result, error) {
	for _, f := range []string{p.Trust, p.Identity, p.CACert, p.HubCert, p.HubKey, p.UnitCert, p.UnitKey, p.SigningKey,
		p.WatchlistKEK, p.OutboxKEK, p.HubKEK, p.Accounts, p.Source, p.Video, p.Travellers} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("prepared directory is incomplete: %w (give --force to redo it)", err)
		}
	}
	res := &Result{Manifest: m, Paths: p, Reused: true}
	if err := writeAccounts(p); err != nil {
		return nil, err
	}
	now := o.Now()
	if now.Sub(m.Bundle.IssuedAt) > refreshAfter || now.After(m.Bundle.ExpiresAt.Add(-refreshAfter)) {
		o.Logger.Info("demo: bundle aged, publishing the next sequence", "sequence", m.Bundle.Sequence+1)
		b, err := buildAndPublish(ctx, p, m.Bundle.Sequence+1, m.FaceModelID, now)
		if err != nil {
			return nil, err
		}
		m.Bundle = *b
		res.Refreshed = true
		if err := writeJSON(p.Manifest, m, 0o644); err != nil {
			return nil, err
		}
	}
	if err := writeConfig(p, o, m.FaceDistance); err != nil {
		return nil, err
	}
	if err := writePrearrival(p, m.Seed, now); err != nil {
		return nil, fmt.Errorf("pre-arrival data: %w", err)
	}
	return res, nil
}

// markerFile marks a directory Prepare made, so that --force only ever
// clears a demo directory, never a directory that happens to hold a keys/
// or state/ of its own.
const markerFile = ".checkpoint-demo"

// claimDir checks that dir is new, empty (but for the script's logs/ and
// demo.pid) or already a demo directory (marked, or holding a manifest),
// and marks it.
func claimDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range ents {
		switch e.Name() {
		case markerFile, "logs", "demo.pid":
			continue
		}
		_, err1 := os.Stat(filepath.Join(dir, markerFile))
		_, err2 := os.Stat(filepath.Join(dir, "demo.json"))
		if err1 != nil && err2 != nil {
			return fmt.Errorf("%w: %s is not empty and was not made by demo prepare: choose another --dir", ErrOptions, dir)
		}
		break
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, markerFile), []byte("made by checkpointctl demo prepare\n"), 0o644)
}

func prepareFresh(ctx context.Context, p Paths, o *Options) (*Result, error) {
	log := o.Logger
	now := o.Now()
	if err := claimDir(o.Dir); err != nil {
		return nil, err
	}
	// A redo starts from nothing: old keys, state and hub data would not
	// agree with the new ones. Only what Prepare creates is removed.
	for _, d := range []string{p.Keys, p.State, p.HQ, filepath.Join(o.Dir, "hub")} {
		if err := os.RemoveAll(d); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{p.Manifest, p.Config, p.Travellers, p.Video, p.Accounts} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{o.Dir, 0o755}, {p.Keys, 0o700}, {p.State, 0o700}, {p.Logs, 0o755}, {p.HQ, 0o700},
		{p.HubBundles, 0o755}, {p.HubData, 0o700}} {
		if err := os.MkdirAll(d.path, d.mode); err != nil {
			return nil, err
		}
		if err := os.Chmod(d.path, d.mode); err != nil {
			return nil, err
		}
	}

	log.Info("demo: keys")
	if err := makeKeys(p, now); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}

	log.Info("demo: faces", "photos", o.FacesDir)
	// As the demo unit runs it (config template): ONNX model, HOG only,
	// no flip averaging.
	noFlip := false
	rec, err := facepipe.New(facepipe.Options{Embedder: facepipe.EmbedderONNX, Model: o.Model, ModelsDir: o.ModelsDir,
		Landmarks: o.Landmarks, Flip: &noFlip, Workers: o.Workers})
	if err != nil {
		return nil, fmt.Errorf("face models: %w", err)
	}
	defer rec.Close()
	subs, err := readSubjects(o.FacesDir)
	if err != nil {
		return nil, fmt.Errorf("photos: %w", err)
	}
	subs, err = pickLive(ctx, rec, subs, o.Workers)
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoTravellers, o.FacesDir)
	}
	// The unit's default bands (config watchlist.face: FPIR targets)
	// for the bundle's templates: the background faces and at most three
	// wanted persons.
	cal := rec.Info().Calibration
	if cal == nil {
		return nil, fmt.Errorf("face model %s has no calibration: run checkpointctl vision calibrate --write-meta", o.Model)
	}
	gallery := int(o.Persons/10) + 3
	bands := faceBands{hit: cal.SearchDistance(vision.DefaultHitFPIR, gallery), possible: cal.SearchDistance(vision.DefaultPossibleFPIR, gallery)}
	bands.verify, _ = cal.Distance(vision.TargetFMR1to1)
	threshold := bands.hit
	plan, err := makePlan(ctx, rec, subs, o, bands, now)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: manifestFormat, CreatedAt: now, Seed: o.Seed, Hold: o.Hold.String(), FPS: o.FPS,
		MaxTravellers: o.MaxTravellers, Docs: o.Docs, Persons: o.Persons, FacesDir: o.FacesDir, ModelsDir: o.ModelsDir,
		FaceModel: o.Model, FaceModelID: rec.ModelID(), FaceDistance: threshold, Officer: Officer}

	log.Info("demo: watchlist source", "documents", o.Docs, "persons", o.Persons, "demo_alerts", len(plan.alerts))
	if err := writeSource(p.Source, o, rec.ModelID(), rec.Info().Dim, plan.alerts); err != nil {
		return nil, fmt.Errorf("watchlist source: %w", err)
	}
	log.Info("demo: bundle")
	b, err := buildAndPublish(ctx, p, 1, rec.ModelID(), now)
	if err != nil {
		return nil, err
	}
	m.Bundle = *b

	log.Info("demo: self-check")
	if err := selfCheck(ctx, p, watchlist.DefaultFacePolicy(cal), threshold, plan, now); err != nil {
		return nil, err
	}

	log.Info("demo: passport chips")
	chipRoles, err := makeChips(ctx, p, rec, plan, bands.verify, now)
	if err != nil {
		return nil, fmt.Errorf("chips: %w", err)
	}

	log.Info("demo: camera video", "travellers", len(plan.travellers))
	hold := int(o.Hold.Seconds()*o.FPS + 0.5)
	var photos []string
	file := &File{Hold: o.Hold, FPS: o.FPS}
	for _, t := range plan.travellers {
		photos = append(photos, t.sub.Live)
		file.Entries = append(file.Entries, Entry{Index: t.index, Role: t.role, Kinds: t.kinds, Lines: t.lines})
		m.Travellers = append(m.Travellers, Traveller{Index: t.index, Photo: filepath.Base(t.sub.Live), Role: t.role,
			Expect: file.Entries[len(file.Entries)-1].Expect(), Template: t.template, Chip: chipRoles[t.index]})
	}
	if err := writeVideo(p.Video, photos, hold, o.FPS); err != nil {
		return nil, fmt.Errorf("camera video: %w", err)
	}
	if err := atomicfile.Write(p.Travellers, 0o600, func(w io.Writer) error { _, err := file.WriteTo(w); return err }); err != nil {
		return nil, err
	}
	if err := writeConfig(p, o, threshold); err != nil {
		return nil, err
	}
	log.Info("demo: pre-arrival passenger lists", "flights", len(demoFlights))
	if err := writePrearrival(p, o.Seed, now); err != nil {
		return nil, fmt.Errorf("pre-arrival data: %w", err)
	}
	// The manifest goes last: its presence means the directory is complete.
	if err := writeJSON(p.Manifest, m, 0o644); err != nil {
		return nil, err
	}
	return &Result{Manifest: m, Paths: p}, nil
}

// writeVideo records the camera file beside its final name and renames it,
// so an interrupted run never leaves a short video behind.
func writeVideo(path string, photos []string, hold int, fps float64) error {
	tmp := strings.TrimSuffix(path, ".avi") + ".tmp.avi"
	if err := cameratest.VideoFromPhotos(tmp, photos, hold, fps); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// makeKeys creates the fleet's key material the way the checkpointctl keys
// commands do: TLS (CA, hub server, unit client), a one-of-one root of trust
// listing one bundle-signing key, the unit's age identity, the KEKs and the
// officer accounts.
func makeKeys(p Paths, now time.Time) error {
	ca, err := pki.NewCA("Checkpoint demo fleet CA", 0)
	if err != nil {
		return err
	}
	if err := ca.WriteFiles(p.CACert, p.CAKey); err != nil {
		return err
	}
	srv, err := ca.IssueServer(nil, 0)
	if err != nil {
		return err
	}
	if err := srv.WriteFiles(p.HubCert, p.HubKey); err != nil {
		return err
	}
	unit, err := ca.IssueUnit(UnitID, 0)
	if err != nil {
		return err
	}
	if err := unit.WriteFiles(p.UnitCert, p.UnitKey); err != nil {
		return err
	}

	rootKey, err := trust.GenerateKey()
	if err != nil {
		return err
	}
	signer, err := trust.GenerateKey()
	if err != nil {
		return err
	}
	if err := trust.WritePrivateKey(p.RootKey, rootKey); err != nil {
		return err
	}
	if err := trust.WritePrivateKey(p.SigningKey, signer); err != nil {
		return err
	}
	root, err := trust.New([]ed25519.PublicKey{rootKey.Public().(ed25519.PublicKey)}, 1, now)
	if err != nil {
		return err
	}
	if err := root.AddSigner("demo-hq", signer.Public().(ed25519.PublicKey), now.Add(-time.Hour), now.Add(365*24*time.Hour)); err != nil {
		return err
	}
	file, err := trust.Sign(root, rootKey)
	if err != nil {
		return err
	}
	if _, err := trust.Install(p.Trust, file); err != nil {
		return err
	}

	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	rcpt := id.Recipient().String()
	body := fmt.Sprintf("# created: %s\n# public key: %s\n%s\n", now.UTC().Format(time.RFC3339), rcpt, id.String())
	if err := atomicfile.WriteFile(p.Identity, []byte(body), 0o600); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(p.Identity+".pub", []byte(rcpt+"\n"), 0o644); err != nil {
		return err
	}

	for _, k := range []string{p.WatchlistKEK, p.OutboxKEK, p.HubKEK} {
		if err := seal.GenerateKeyFile(k); err != nil {
			return err
		}
	}
	return writeAccounts(p)
}

// writeAccounts writes the demo officer. Whoever runs the demo may also
// sign in as that officer through the sign-in socket (checkpointctl officer
// signin), without the PIN; a reused directory is rewritten so the mapping
// follows the user running it now.
func writeAccounts(p Paths) error {
	me := ""
	if u, err := user.Current(); err == nil {
		me = u.Username
	}
	acc := &web.Accounts{}
	acc.SetOfficer(Officer, OfficerName, PIN, me)
	if err := acc.Save(p.Accounts); err != nil {
		return err
	}
	// LoadAccounts refuses files others can read; Save leaves 0640.
	return os.Chmod(p.Accounts, 0o600)
}

// plannedTraveller is a traveller with everything the files need.
type plannedTraveller struct {
	index    int
	sub      *subject
	role     Role
	kinds    []string
	lines    []string
	doc      *mrz.Document
	template string
}

// faceBands are the demo unit's face distances for its bundle: 1:N hit and
// possible bands, 1:1 verification (chip photo against the live face).
type faceBands struct{ hit, possible, verify float32 }

type plan struct {
	travellers []*plannedTraveller
	alerts     []watchlist.Change
}

// roleCounts says how many travellers of each hit role a demo of n has:
// about four in ten raise a hit, so hits are frequent enough to watch
// and the clear ones still dominate.
func roleCounts(n int) (wanted, stolen, alias int) {
	switch {
	case n >= 9:
		return 3, 2, 1
	case n >= 5:
		return 2, 1, 1
	case n >= 3:
		return 1, 1, 0
	default:
		return 1, 0, 0
	}
}

// makePlan picks the travellers, their roles, identities, documents and
// the demo's watchlist alerts, deterministically from the seed.
func makePlan(ctx context.Context, rec recognizer, subs []*subject, o *Options, bands faceBands, now time.Time) (*plan, error) {
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5eed_c0de))
	if len(subs) > o.MaxTravellers {
		subs = subs[:o.MaxTravellers]
	}
	n := len(subs)
	nw, ns, na := roleCounts(n)

	// Roles: wanted persons only among people with another photo that the
	// unit finds from the camera's view (chooseTemplate), then the rest at
	// random. With fewer such people the demo has fewer wanted travellers.
	type listed struct {
		path   string
		vec    []float32
		q      float32
		strong bool // in the hit band
	}
	templates := make([]*listed, n)
	found := 0
	for i, s := range subs {
		var notMe [][]float32
		for _, o := range subs {
			if o != s {
				notMe = append(notMe, o.LiveVec)
			}
		}
		path, vec, q, strong, ok, err := chooseTemplate(ctx, rec, s, notMe, bands.hit, bands.possible)
		if err != nil {
			return nil, err
		}
		if ok {
			templates[i] = &listed{path, vec, q, strong}
			found++
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("%w: no person in the photos has a second photo the face model finds at its bands (hit %.3f)", ErrNoTravellers, bands.hit)
	}
	nw = min(nw, found)
	idx := r.Perm(n)
	rank := func(i int) int {
		switch {
		case templates[i] == nil:
			return 0
		case templates[i].strong:
			return 2
		}
		return 1
	}
	slices.SortStableFunc(idx, func(a, b int) int { return rank(b) - rank(a) })
	roles := make([]Role, n)
	for i := range roles {
		roles[i] = RoleClear
	}
	for k, i := range idx {
		switch {
		case k < nw:
			roles[i] = RoleWanted
		}
	}
	rest := slices.DeleteFunc(r.Perm(n), func(i int) bool { return roles[i] != RoleClear })
	for k, i := range rest {
		switch {
		case k < ns:
			roles[i] = RoleStolen
		case k < ns+na:
			roles[i] = RoleAlias
		}
	}

	// Camera order: hits spread evenly among clear travellers.
	var hits, clears []int
	for _, i := range r.Perm(n) {
		if roles[i] == RoleClear {
			clears = append(clears, i)
		} else {
			hits = append(hits, i)
		}
	}
	order := make([]int, n)
	taken := make([]bool, n)
	for j, i := range hits {
		pos := (2*j + 1) * n / (2 * len(hits))
		for taken[pos] {
			pos = (pos + 1) % n
		}
		order[pos], taken[pos] = i, true
	}
	c := 0
	for pos := range n {
		if !taken[pos] {
			order[pos] = clears[c]
			c++
		}
	}

	ids := pickIdentities(r, n, func(k int) string { return subs[order[k]].Person })
	// With two or more wanted persons one travels under another identity,
	// so only the face can find them: the last one in camera order whose
	// template is in the hit band (a face-only possible match would only
	// refer), else the third.
	faceOnly := -1
	if nw >= 2 {
		w := 0
		for _, i := range order {
			if roles[i] != RoleWanted {
				continue
			}
			if w++; templates[i].strong || (w == 3 && faceOnly < 0) {
				faceOnly = i
			}
		}
	}
	pl := &plan{}
	wantedNo, stolenNo := 0, 0
	categories := []struct{ cat, action string }{
		{"wanted", watchlist.ActionArrest},
		{"foreign_terrorist_fighter", watchlist.ActionDiscreetCheck},
		{"refused_entry", watchlist.ActionRefer},
	}
	for k, i := range order {
		s := subs[i]
		t := &plannedTraveller{index: k + 1, sub: s, role: roles[i]}
		id := ids[k]
		var aliasListed identity
		if t.role == RoleAlias {
			id, aliasListed = aliasOf(id)
		}
		doc := newDocument(r, id, now)
		switch t.role {
		case RoleWanted:
			cat := categories[wantedNo%len(categories)]
			wantedNo++
			path, vec, q := templates[i].path, templates[i].vec, templates[i].q
			photo, err := referenceJPEG(path, 320)
			if err != nil {
				return nil, fmt.Errorf("reference photo: %w", err)
			}
			t.template = filepath.Base(path)
			pid := fmt.Sprintf("DEMO-P%d", wantedNo)
			pa := &watchlist.PersonAlert{ID: pid, Name: watchlist.Name{Surname: id.Surname, GivenNames: id.Given},
				Birth: doc.birthString(), Nationality: id.Nationality, Sex: id.Sex, Category: cat.cat, Action: cat.action,
				Source: "national", Photo: photo,
				Faces: []watchlist.FaceTemplate{{ID: pid + "-F1", ModelID: rec.ModelID(), Quality: q, Vector: vec}}}
			t.kinds = []string{watchlist.HitFace, watchlist.HitPerson}
			if i == faceOnly {
				// Travelling under another identity: listed by face under a
				// different name and date of birth, so only the face hits.
				other := otherIdentity(r, id)
				pa.Name = watchlist.Name{Surname: other.Surname, GivenNames: other.Given}
				pa.Birth = doc.Birth.AddDate(-2, 3, 11).Format("2006")
				pa.Nationality, pa.Sex = other.Nationality, ""
				t.kinds = []string{watchlist.HitFace}
			}
			watchlist.FillMRZ(pa)
			pl.alerts = append(pl.alerts, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: pa.ID, Person: pa})
		case RoleStolen:
			stolenNo++
			status, action := "stolen", watchlist.ActionRefer
			if stolenNo == 2 {
				status, action = "lost", watchlist.ActionAlertOnly
			}
			did := fmt.Sprintf("DEMO-SLTD-%d", stolenNo)
			da := &watchlist.DocumentAlert{ID: did, IssuingState: doc.Nationality, DocumentType: doc.Code, Number: doc.Number,
				Status: status, Source: "SLTD", Action: action, ReportedAt: now.AddDate(0, -2-stolenNo, 0).Format("2006-01-02")}
			pl.alerts = append(pl.alerts, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: did, Document: da})
			t.kinds = []string{watchlist.HitDocument}
		case RoleAlias:
			pa := &watchlist.PersonAlert{ID: "DEMO-P-ALIAS", Name: watchlist.Name{Surname: aliasListed.Surname, GivenNames: aliasListed.Given},
				Birth: doc.birthString(), Nationality: aliasListed.Nationality, Sex: aliasListed.Sex,
				Category: "refused_entry", Action: watchlist.ActionRefer, Source: "national"}
			watchlist.FillMRZ(pa)
			pl.alerts = append(pl.alerts, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: pa.ID, Person: pa})
			t.kinds = []string{watchlist.HitPerson}
		}
		lines, err := doc.lines()
		if err != nil {
			return nil, fmt.Errorf("traveller %d: mrz: %w", t.index, err)
		}
		t.lines = lines
		t.doc = mrz.Parse(lines, mrz.Options{Now: now})
		if !t.doc.Valid {
			return nil, fmt.Errorf("traveller %d: generated MRZ does not check", t.index)
		}
		slices.Sort(t.kinds)
		pl.travellers = append(pl.travellers, t)
	}
	return pl, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeSource writes the headquarters' plain source of the watchlist
// (JSON Lines, the format `checkpointctl watchlist build --from` reads):
// the synthetic background list, then the demo's alerts.
func writeSource(path string, o *Options, modelID string, dim int, alerts []watchlist.Change) error {
	faces := o.Persons / 10
	g := synth.New(synth.Config{Docs: o.Docs, Persons: o.Persons, Faces: faces, Seed: o.Seed, FaceModelID: modelID, WatchlistID: WatchlistID,
		FaceVector: func(i int64) []float32 { // background faces in the model's dimension
			return synth.RandomUnitVector(rand.New(rand.NewPCG(o.Seed^0xface, uint64(i))), dim)
		}})
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		enc := json.NewEncoder(bw)
		if err := enc.Encode(watchlist.Header{Kind: watchlist.KindMeta, WatchlistID: WatchlistID, Authority: Authority, FaceModelID: modelID}); err != nil {
			return err
		}
		for {
			c, err := g.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
		for _, c := range alerts {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}

// buildAndPublish builds full bundle seq from the source, signed with the
// demo's signing key and encrypted to the unit, next to the source in hq/
// with its detached header (as `watchlist build` does), and publishes it
// into the hub's bundle directory (as `watchlist publish` does).
func buildAndPublish(ctx context.Context, p Paths, seq uint64, modelID string, now time.Time) (*BundleSummary, error) {
	key, err := trust.ReadPrivateKey(p.SigningKey)
	if err != nil {
		return nil, err
	}
	rcpts, err := bundle.ParseRecipients([]string{p.Identity + ".pub"})
	if err != nil {
		return nil, err
	}
	src, closer, err := watchlist.OpenSource(p.Source)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	opts := bundle.BuildOptions{WatchlistID: WatchlistID, Sequence: seq, IssuedAt: now, ExpiresAt: now.Add(bundleValidity),
		Authority: Authority, FaceModelID: modelID, Key: key, Recipients: rcpts, TempDir: p.HQ}
	out := filepath.Join(p.HQ, fmt.Sprintf("full-%d.cpwl", seq))
	var signed *bundle.Signed
	err = atomicfile.Write(out, 0o644, func(w io.Writer) error {
		var err error
		signed, err = bundle.Build(ctx, w, src, opts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("build bundle: %w", err)
	}
	hb, err := json.Marshal(signed)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(bundle.HeaderFile(out), append(hb, '\n'), 0o644); err != nil {
		return nil, err
	}
	entry, err := bundle.Publish(p.HubBundles, out, signed, now, 2)
	if err != nil {
		return nil, fmt.Errorf("publish bundle: %w", err)
	}
	h, err := signed.Decode()
	if err != nil {
		return nil, err
	}
	// Older bundles stay in hq/ only as long as they are published.
	for s := uint64(1); s+2 <= seq; s++ {
		old := filepath.Join(p.HQ, fmt.Sprintf("full-%d.cpwl", s))
		os.Remove(old)
		os.Remove(bundle.HeaderFile(old))
	}
	return &BundleSummary{Sequence: seq, File: filepath.Join(p.HubBundles, WatchlistID, entry.File), IssuedAt: h.IssuedAt,
		ExpiresAt: h.ExpiresAt, Documents: h.Documents, Persons: h.Persons, Faces: h.Faces, KeyID: h.KeyID}, nil
}

// selfCheck installs the published bundle into a scratch store through the
// unit's verification path (trust root, unit identity) and checks every
// traveller, with the face the camera will show, against it, at the unit's
// default face bands (a listed face in the possible band counts: the lane
// refers).
func selfCheck(ctx context.Context, p Paths, face watchlist.FacePolicy, threshold float32, pl *plan, now time.Time) error {
	root, err := trust.Load(p.Trust)
	if err != nil {
		return err
	}
	ids, err := bundle.LoadIdentities("file:" + p.Identity)
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp(p.HQ, ".selfcheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	store, err := watchlist.Open(filepath.Join(scratch, "watchlist.db"), seal.FileKey{Path: p.WatchlistKEK},
		watchlist.Options{Face: face, FaceMaxDistance: threshold, NoSync: true, SpillDir: scratch})
	if err != nil {
		return err
	}
	defer store.Close()
	idx, err := bundle.ReadIndex(mustOpen(filepath.Join(p.HubBundles, WatchlistID, bundle.IndexFile)))
	if err != nil {
		return fmt.Errorf("published index: %w", err)
	}
	var file string
	for _, e := range idx.Bundles {
		if e.Sequence == idx.Latest {
			file = filepath.Join(p.HubBundles, WatchlistID, e.File)
		}
	}
	if _, err := bundle.Install(ctx, file, store, bundle.Options{Trust: root, Identities: ids, Now: func() time.Time { return now }}); err != nil {
		return fmt.Errorf("published bundle does not install: %w", err)
	}
	meta := store.Meta()
	var errs []error
	for _, t := range pl.travellers {
		res, err := store.Check(ctx, watchlist.Query{Document: t.doc, Face: t.sub.LiveVec, FaceModelID: meta.FaceModelID})
		if err != nil {
			return err
		}
		got := map[string]bool{}
		for _, h := range res.Hits {
			got[h.Kind] = true
		}
		var kinds []string
		for k := range got {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		if !slices.Equal(kinds, t.kinds) {
			errs = append(errs, fmt.Errorf("traveller %d (%s): want hits %v, got %v", t.index, t.role, t.kinds, kinds))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrSelfCheck, errors.Join(errs...))
	}
	return nil
}

// mustOpen opens a file for a reader that reports the error itself.
func mustOpen(path string) io.Reader {
	f, err := os.ReadFile(path)
	if err != nil {
		return errReader{err}
	}
	return strings.NewReader(string(f))
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
