package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// Enrolment turns photos of listed persons into face templates at
// headquarters, through the enrolment gate (vision.EnrolmentPolicy). The
// person record schema is unchanged: templates go into the person's faces,
// one per accepted photo; the best photo becomes the reference photo the
// officer sees when the person has none.

func init() {
	c := newWatchlistEnrolCmd()
	addPipelineFlags(c.Flags()) // the model, detector and flip of `vision`
	watchlistCmd.AddCommand(c)
}

// photoList maps person ids to their enrolment photos, in file order.
type photoList struct {
	order []string
	by    map[string][]string
}

// readPhotoList reads person_id,file lines (a header "person,file" is
// skipped, '#' starts a comment); paths are relative to the list's folder.
func readPhotoList(path string) (*photoList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parsePhotoList(f, filepath.Dir(path))
}

func parsePhotoList(r io.Reader, dir string) (*photoList, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	pl := &photoList{by: map[string][]string{}}
	line := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("photo list: %w", err)
		}
		if line == 1 && len(rec) >= 2 && strings.EqualFold(strings.TrimSpace(rec[0]), "person") {
			continue
		}
		if len(rec) != 2 || strings.TrimSpace(rec[0]) == "" || strings.TrimSpace(rec[1]) == "" {
			return nil, fmt.Errorf("photo list line %d: want person_id,file", line)
		}
		id, file := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		if _, ok := pl.by[id]; !ok {
			pl.order = append(pl.order, id)
		}
		pl.by[id] = append(pl.by[id], file)
	}
	if len(pl.order) == 0 {
		return nil, errors.New("photo list: no entries")
	}
	return pl, nil
}

// photoVerdict is one line of the enrolment report. It names the file and
// the person id (the operator's own data at headquarters), never a face.
type photoVerdict struct {
	Person  string   `json:"person"`
	File    string   `json:"file"`
	Verdict string   `json:"verdict"` // enrolled, flagged, refused
	Refused []string `json:"refused,omitempty"`
	Flags   []string `json:"flags,omitempty"`
	Error   string   `json:"error,omitempty"`
}

type enrolReport struct {
	Model    string         `json:"model_id"`
	Persons  int            `json:"persons_enrolled"`
	Photos   []photoVerdict `json:"photos"`
	Refused  int            `json:"refused"`
	Flagged  int            `json:"flagged"`
	Enrolled int            `json:"enrolled"`
	Unknown  []string       `json:"unknown_persons,omitempty"`
}

// enrolSource reads src, adds a face template for every accepted photo of
// the persons in photos, and writes the result as JSON Lines to out (with a
// header naming the face model).
func enrolSource(cmd *cobra.Command, src, photos, out string) (*enrolReport, error) {
	pl, err := readPhotoList(photos)
	if err != nil {
		return nil, cli.Exit(2, err)
	}
	s, closer, err := watchlist.OpenSource(src)
	if err != nil {
		return nil, cli.Exit(2, err)
	}
	defer closer.Close()
	r, err := openRecognizer(cmd)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	rep := &enrolReport{Model: r.ModelID()}
	policy := vision.DefaultEnrolmentPolicy()
	seen := map[string]bool{}
	err = atomicfile.Write(out, 0o600, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		h, _ := s.Header()
		if h.FaceModelID != "" && h.FaceModelID != r.ModelID() {
			return cli.Exit(2, fmt.Errorf("%w: source holds templates of model %q, enrolling with %q", watchlist.ErrModelMismatch, h.FaceModelID, r.ModelID()))
		}
		h.Kind, h.FaceModelID = watchlist.KindMeta, r.ModelID()
		if err := enc.Encode(h); err != nil {
			return err
		}
		for {
			c, err := s.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if c.Person != nil && len(pl.by[c.ID]) > 0 {
				seen[c.ID] = true
				if err := enrolPerson(cmd, r, policy, c.Person, pl.by[c.ID], rep); err != nil {
					return err
				}
			}
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
	})
	if err != nil {
		return nil, err
	}
	for _, id := range pl.order {
		if !seen[id] {
			rep.Unknown = append(rep.Unknown, id)
		}
	}
	return rep, nil
}

func enrolPerson(cmd *cobra.Command, r vision.Recognizer, policy vision.EnrolmentPolicy, p *watchlist.PersonAlert, files []string, rep *enrolReport) error {
	var best []byte
	bestScore := -1.0
	n := len(p.Faces)
	enrolled := false
	for _, file := range files {
		v := photoVerdict{Person: p.ID, File: file}
		data, err := os.ReadFile(file)
		var faces []vision.Face
		var img vision.Image
		if err == nil {
			if img, err = vision.DecodeImage(data); err == nil {
				faces, err = r.Faces(cmd.Context(), img)
				if errors.Is(err, vision.ErrNoFace) {
					err = nil
				}
			}
		}
		if err != nil {
			v.Verdict, v.Error = "refused", err.Error()
			rep.Photos = append(rep.Photos, v)
			rep.Refused++
			continue
		}
		ev := policy.Check(faces)
		v.Refused, v.Flags = ev.Refused, ev.Flags
		switch {
		case !ev.Accepted:
			v.Verdict = "refused"
			rep.Refused++
		default:
			v.Verdict = "enrolled"
			if len(ev.Flags) > 0 {
				v.Verdict = "flagged"
				rep.Flagged++
			}
			rep.Enrolled++
			f := faces[ev.Face]
			n++
			p.Faces = append(p.Faces, watchlist.FaceTemplate{ID: fmt.Sprintf("%s-F%d", p.ID, n), ModelID: r.ModelID(),
				Quality: float32(f.Quality.Score), Vector: f.Descriptor})
			enrolled = true
			if f.Quality.Score > bestScore && len(p.Photo) == 0 {
				bestScore, best = f.Quality.Score, referencePhoto(img)
			}
		}
		rep.Photos = append(rep.Photos, v)
	}
	if enrolled {
		rep.Persons++
	}
	if len(p.Photo) == 0 && best != nil {
		p.Photo = best
	}
	return nil
}

// referencePhoto is the photo for the officer's screen: at most 480 px on
// its longer side, JPEG.
func referencePhoto(img vision.Image) []byte {
	const side = 480
	if img.W > side || img.H > side {
		w, h := side, max(img.H*side/img.W, 1)
		if img.H > img.W {
			w, h = max(img.W*side/img.H, 1), side
		}
		img = vision.Resize(img, w, h)
	}
	rgba := image.NewRGBA(image.Rect(0, 0, img.W, img.H))
	for i, j := 0, 0; i < len(img.Pix); i, j = i+3, j+4 {
		rgba.Pix[j], rgba.Pix[j+1], rgba.Pix[j+2], rgba.Pix[j+3] = img.Pix[i], img.Pix[i+1], img.Pix[i+2], 255
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, rgba, &jpeg.Options{Quality: 85}); err != nil {
		return nil
	}
	return b.Bytes()
}

func printEnrolReport(cmd *cobra.Command, rep *enrolReport, out string) error {
	w := cmd.OutOrStdout()
	if jsonOutput(cmd) {
		return cli.WriteJSONLine(w, rep)
	}
	for _, v := range rep.Photos {
		detail := ""
		switch {
		case v.Error != "":
			detail = v.Error
		case len(v.Refused) > 0:
			detail = strings.Join(v.Refused, ", ")
		case len(v.Flags) > 0:
			detail = strings.Join(v.Flags, ", ")
		}
		fmt.Fprintf(w, "%-9s %s %s %s\n", v.Verdict, v.Person, filepath.Base(v.File), detail)
	}
	for _, id := range rep.Unknown {
		fmt.Fprintf(w, "unknown   %s: in the photo list, not a person of the source\n", id)
	}
	fmt.Fprintf(w, "%d photos enrolled (%d flagged), %d refused; %d persons with new templates (model %s) → %s\n",
		rep.Enrolled, rep.Flagged, rep.Refused, rep.Persons, rep.Model, out)
	return nil
}

func newWatchlistEnrolCmd() *cobra.Command {
	var from, photos, out string
	var strict bool
	c := &cobra.Command{
		Use:   "enrol --from SOURCE --photos PHOTOS.csv --out ENROLLED.jsonl",
		Short: "Add face templates to listed persons from their photos, through the enrolment quality gate",
		Long: `Add a face template to each listed person for every photo of them that passes
the enrolment gate. PHOTOS.csv has person_id,file lines (paths relative to
the list), several photos per person welcome: the daemon scores a traveller
against each. A photo is refused with no face, several faces, a tiny face
(eyes under 30 px apart) or heavy blur; it is enrolled but flagged when
small (under 60 px), turned more than 40°, tilted, badly lit or flat. The
person record is otherwise unchanged; a person without a reference photo
gets the best enrolled one (480 px) for the officer's screen. The output is
a JSON Lines source (header naming the face model) for 'watchlist build'
or 'watchlist import'. --strict fails when any photo is refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || photos == "" || out == "" {
				return cli.Exit(2, errors.New("--from, --photos and --out are required"))
			}
			rep, err := enrolSource(cmd, from, photos, out)
			if err != nil {
				return err
			}
			if err := printEnrolReport(cmd, rep, out); err != nil {
				return err
			}
			if strict && (rep.Refused > 0 || len(rep.Unknown) > 0) {
				return cli.Exit(1, fmt.Errorf("watchlist enrol: %d photos refused, %d unknown persons", rep.Refused, len(rep.Unknown)))
			}
			return nil
		},
	}
	c.Flags().StringVar(&from, "from", "", "source: JSON Lines or CSV (.gz ok)")
	c.Flags().StringVar(&photos, "photos", "", "person_id,file list of enrolment photos")
	c.Flags().StringVar(&out, "out", "", "JSON Lines source to write, with the templates")
	c.Flags().BoolVar(&strict, "strict", false, "fail when a photo is refused or a person is unknown")
	return c
}

// enrolForBuild enrols the photos into the build's sources (--from, and
// --prev for a delta, so that unchanged persons keep identical templates)
// and points them at the enrolled copies, removed by the returned cleanup.
func enrolForBuild(cmd *cobra.Command, photos, tmpDir string, from, prev *string) (func(), error) {
	dir, err := os.MkdirTemp(tmpDir, "enrol-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	for i, p := range []*string{from, prev} {
		if *p == "" {
			continue
		}
		out := filepath.Join(dir, fmt.Sprintf("source-%d.jsonl", i))
		rep, err := enrolSource(cmd, *p, photos, out)
		if err != nil {
			cleanup()
			return nil, err
		}
		if i == 0 {
			if err := printEnrolReport(cmd, rep, "bundle"); err != nil {
				cleanup()
				return nil, err
			}
		}
		*p = out
	}
	return cleanup, nil
}
