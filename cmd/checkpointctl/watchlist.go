package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
	"github.com/checkpoint-edge/checkpoint/watchlist/synth"
)

// watchlistCmd groups the watchlist store tools; other files (signed
// bundles) add subcommands to it.
var watchlistCmd = &cobra.Command{
	Use:   "watchlist",
	Short: "Local encrypted watchlist: import, info, search, statistics, synthetic data",
}

// importBundleHook lets the bundle commands take over `watchlist import`
// for signed bundles. It is called first; when it returns handled=false (or
// is nil) the source is imported as a plain JSON Lines / CSV file.
var importBundleHook func(cmd *cobra.Command, path string) (handled bool, err error)

const (
	defaultStorePath = "/var/lib/checkpoint/watchlist.db"
	defaultStoreKey  = "credential:watchlist.kek"
)

func init() {
	watchlistCmd.PersistentFlags().String("store", defaultStorePath, "watchlist store file")
	watchlistCmd.PersistentFlags().String("key", defaultStoreKey, "key-encryption key: file:PATH, credential:NAME or env:VAR")
	watchlistCmd.AddCommand(newWatchlistImportCmd(), newWatchlistInfoCmd(), newWatchlistSearchCmd(),
		newWatchlistExportStatsCmd(), newWatchlistSynthCmd())
	rootCmd.AddCommand(watchlistCmd)
}

// openWatchlist opens the store named by --store/--key.
func openWatchlist(cmd *cobra.Command, opts watchlist.Options) (*watchlist.Store, error) {
	path, _ := cmd.Flags().GetString("store")
	spec, _ := cmd.Flags().GetString("key")
	kp, err := seal.ParseProvider(spec)
	if err != nil {
		return nil, cli.Exit(2, err)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 3 * time.Second
	}
	s, err := watchlist.Open(path, kp, opts)
	if err != nil {
		if strings.Contains(err.Error(), "timeout") {
			return nil, fmt.Errorf("%w (is checkpointd holding the store? stop it or use its API)", err)
		}
		return nil, err
	}
	return s, nil
}

// showProgress says whether to draw progress bars: only for people.
func showProgress(cmd *cobra.Command) bool {
	if jsonOutput(cmd) {
		return false
	}
	f, ok := cmd.OutOrStdout().(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newCounterBar(cmd *cobra.Command, total int64, desc string) *progressbar.ProgressBar {
	if !showProgress(cmd) {
		return nil
	}
	return progressbar.NewOptions64(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
		progressbar.OptionSetDescription(desc), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

type importResult struct {
	Store        string  `json:"store"`
	Sequence     uint64  `json:"sequence"`
	WatchlistID  string  `json:"watchlist_id"`
	Documents    int64   `json:"documents"`
	Persons      int64   `json:"persons"`
	Faces        int64   `json:"faces"`
	StateHash    string  `json:"state_hash"`
	Seconds      float64 `json:"seconds"`
	RecordsPerS  float64 `json:"records_per_second"`
	FileBytes    int64   `json:"file_bytes"`
	UnsignedNote string  `json:"note"`
}

func newWatchlistImportCmd() *cobra.Command {
	var unsigned, replaceSigned bool
	var seq uint64
	var wlID, faceModel, spillDir, reason, configPath string
	var validFor time.Duration
	c := &cobra.Command{
		Use:   "import SOURCE",
		Short: "Replace the store's watchlist with a source file (signed bundle, or plain JSON Lines / CSV with --unsigned)",
		Long: `Import SOURCE as a full replacement of the installed watchlist.

Signed bundles are handled by the bundle commands. A plain source (JSON Lines
or CSV, see watchlist/FORMAT.md; .gz accepted) carries no signature, so it is
only imported with --unsigned. The import builds the new version beside the
installed one and switches atomically: on any error (a bad line is reported
with its line number) the installed watchlist stays as it was.

An unsigned import is marked as such (watchlist info, status) and never
replaces an installed signed watchlist unless told to with --replace-signed
and a --reason, which is recorded in the unit's audit log. Even then the
signed sequence does not move: the next signed bundle newer than the one
replaced installs as usual.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if importBundleHook != nil {
				handled, err := importBundleHook(cmd, args[0])
				if handled || err != nil {
					return err
				}
			}
			if !unsigned {
				return cli.Exit(2, errors.New("plain sources carry no signature: pass --unsigned to import one anyway (signed bundles are imported without it)"))
			}
			if replaceSigned && strings.TrimSpace(reason) == "" {
				return cli.Exit(2, errors.New(`--replace-signed needs --reason "…" (it is recorded in the audit log)`))
			}
			if seq != 0 {
				if err := watchlist.CheckSequence(seq); err != nil {
					return cli.Exit(2, fmt.Errorf("--sequence: %w", err))
				}
			}
			src, closer, err := watchlist.OpenSource(args[0])
			if err != nil {
				return cli.Exit(2, err)
			}
			defer closer.Close()
			bar := newCounterBar(cmd, -1, "importing")
			s, err := openWatchlist(cmd, watchlist.Options{SpillDir: spillDir, Progress: func(n int64) {
				if bar != nil {
					bar.Set64(n)
				}
			}})
			if err != nil {
				return err
			}
			defer s.Close()
			before := s.Meta()
			// Replacing a signed watchlist must be on record before it
			// happens: no audit log, no replacement.
			var ta *techAudit
			if replaceSigned {
				if ta, err = openTechAudit(configPath, true, cmd.ErrOrStderr()); err != nil {
					return cli.Exit(2, err)
				}
				defer ta.Close()
			}
			meta := watchlist.Meta{WatchlistID: "plain-import", Authority: watchlist.LegacyUnsignedAuthority, IssuedAt: time.Now().UTC()}
			if h, ok := src.Header(); ok {
				meta.WatchlistID, meta.Authority, meta.FaceModelID = h.WatchlistID, h.Authority, h.FaceModelID
				if !h.IssuedAt.IsZero() {
					meta.IssuedAt = h.IssuedAt
				}
				meta.ExpiresAt = h.ExpiresAt
			}
			if wlID != "" {
				meta.WatchlistID = wlID
			}
			if faceModel != "" {
				meta.FaceModelID = faceModel
			}
			if validFor > 0 {
				meta.ExpiresAt = meta.IssuedAt.Add(validFor)
			}
			meta.Sequence = before.Sequence + 1
			if meta.Sequence > watchlist.MaxSequence {
				meta.Sequence = 1 // a local version number: it orders nothing
			}
			if seq != 0 {
				meta.Sequence = seq
			}
			t0 := time.Now()
			if err := s.ImportUnsigned(cmd.Context(), meta, src, replaceSigned); err != nil {
				if bar != nil {
					bar.Exit()
				}
				if errors.Is(err, watchlist.ErrSignedInstalled) {
					return cli.Exit(2, fmt.Errorf("%s: refused, nothing imported: signed watchlist %q sequence %d is installed and an unsigned import does not replace it "+
						`(to replace it anyway: --replace-signed --reason "…", recorded in the audit log; the signed sequence stays)`,
						args[0], before.WatchlistID, before.Sequence))
				}
				if errors.Is(err, watchlist.ErrBadSource) || errors.Is(err, watchlist.ErrBadRecord) || errors.Is(err, watchlist.ErrModelMismatch) ||
					errors.Is(err, watchlist.ErrBadSequence) {
					return cli.Exit(2, fmt.Errorf("%s: %w (nothing imported)", args[0], err))
				}
				return err
			}
			if bar != nil {
				bar.Finish()
			}
			el := time.Since(t0)
			m := s.Meta()
			if replaceSigned && !before.IsUnsigned() && before.Sequence > 0 {
				if err := ta.record(audit.KindWatchlistChange, "signed_watchlist_replaced_by_unsigned_import", map[string]string{
					"reason": reason, "file": args[0], "replaced_watchlist_id": before.WatchlistID,
					"replaced_sequence": fmt.Sprint(before.Sequence), "replaced_state_hash": before.StateHash,
					"state_hash": m.StateHash, "signed_sequence_kept": fmt.Sprint(s.SignedMeta().Sequence),
				}); err != nil {
					return err
				}
			}
			st, _ := s.Stats()
			res := importResult{Store: s.Path(), Sequence: m.Sequence, WatchlistID: m.WatchlistID, Documents: m.Documents,
				Persons: m.Persons, Faces: m.Faces, StateHash: m.StateHash, Seconds: el.Seconds(),
				RecordsPerS: float64(m.Documents+m.Persons) / max(el.Seconds(), 1e-9), FileBytes: st.FileBytes,
				UnsignedNote: "unsigned local import: no signature was checked"}
			if sm := s.SignedMeta(); sm.Sequence > 0 {
				res.UnsignedNote += fmt.Sprintf("; signed watchlist %q stays at sequence %d for later signed bundles", sm.WatchlistID, sm.Sequence)
			}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s as sequence %d: %d documents, %d persons, %d face templates in %.1fs (%.0f records/s)\nstate hash %s\n%s\n",
				res.WatchlistID, res.Sequence, res.Documents, res.Persons, res.Faces, res.Seconds, res.RecordsPerS, res.StateHash, res.UnsignedNote)
			return nil
		},
	}
	c.Flags().BoolVar(&unsigned, "unsigned", false, "accept a plain source without a signature")
	c.Flags().Uint64Var(&seq, "sequence", 0, "local version number to install, 1 to 2^53-1 (default: installed + 1)")
	c.Flags().BoolVar(&replaceSigned, "replace-signed", false, "let this unsigned import replace an installed signed watchlist (needs --reason; audited)")
	c.Flags().StringVar(&reason, "reason", "", "why a signed watchlist is replaced (recorded in the audit log)")
	c.Flags().StringVar(&configPath, "config", techDefaultConfig, "checkpointd's config, for its audit log (--replace-signed)")
	c.Flags().StringVar(&wlID, "watchlist-id", "", "watchlist id (default: from the source header)")
	c.Flags().StringVar(&faceModel, "face-model-id", "", "face model of the templates (default: from the source header)")
	c.Flags().DurationVar(&validFor, "valid-for", 0, "mark the version stale after this long (e.g. 48h)")
	c.Flags().StringVar(&spillDir, "spill-dir", "", "directory for the temporary sorted runs of large imports (default: the store's)")
	return c
}

// infoResult is one line of `watchlist info --json`.
type infoResult = watchlist.Info

func newWatchlistInfoCmd() *cobra.Command {
	var maxAge time.Duration
	var configPath string
	var th thresholdFlags
	c := &cobra.Command{
		Use:   "info",
		Short: "Installed version, counts, age, STALE flag and file size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := watchlistInfo(cmd, configPath, th, maxAge)
			if err != nil {
				return err
			}
			m, st, now := res.Meta, res.Stats, time.Now()
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), res)
			}
			w := cmd.OutOrStdout()
			state := "current"
			if res.Stale {
				state = "STALE"
			}
			if m.Sequence == 0 {
				fmt.Fprintf(w, "store:      %s\nwatchlist:  none installed (STALE)\nfile size:  %d bytes\n", res.Store, st.FileBytes)
				return nil
			}
			fmt.Fprintf(w, "store:      %s\nwatchlist:  %s sequence %d from %s (%s)\n", res.Store, m.WatchlistID, m.Sequence, m.Authority, state)
			if m.IsUnsigned() {
				fmt.Fprintf(w, "provenance: UNSIGNED local import (no signature checked); next signed bundle must exceed sequence %d\n", res.SignedSequence)
			}
			fmt.Fprintf(w, "issued:     %s (age %s)\n", m.IssuedAt.Format(time.RFC3339), m.Age(now).Round(time.Second))
			if !m.ExpiresAt.IsZero() {
				fmt.Fprintf(w, "expires:    %s\n", m.ExpiresAt.Format(time.RFC3339))
			}
			fmt.Fprintf(w, "installed:  %s\nrecords:    %d documents, %d persons, %d face templates (model %q)\n",
				m.InstalledAt.Format(time.RFC3339), m.Documents, m.Persons, m.Faces, m.FaceModelID)
			fmt.Fprintf(w, "state hash: %s\nfile size:  %d bytes (%.0f bytes/record)\n", m.StateHash, st.FileBytes,
				float64(st.FileBytes)/float64(max(m.Documents+m.Persons, 1)))
			t := res.Thresholds
			fmt.Fprintf(w, "person HIT: score ≥ %.2f, name ≥ %.2f, evidence ≥ %.2f\nPOSSIBLE:   score ≥ %.2f, name ≥ %.2f, evidence ≥ %.2f (the lane refers; the officer judges)\n",
				t.HitScore, t.HitNameScore, t.HitEvidence, t.PossibleScore, t.PossibleNameScore, t.PossibleEvidence)
			if res.IntegrityErrors > 0 {
				fmt.Fprintf(w, "INTEGRITY:  %d stored values failed authentication\n", res.IntegrityErrors)
			}
			return nil
		},
	}
	c.Flags().DurationVar(&maxAge, "max-age", 48*time.Hour, "report STALE when the version is older than this (0: only past its expiry)")
	c.Flags().StringVar(&configPath, "config", techDefaultConfig, "checkpointd config: its store and key (unless --store), its running daemon, its person thresholds")
	th.register(c)
	return c
}

// searchOutput is one line of `watchlist search --json`.
type searchOutput struct {
	Query  string          `json:"query"`
	Hits   []watchlist.Hit `json:"hits"`
	Errors []string        `json:"errors,omitempty"`
}

func newWatchlistSearchCmd() *cobra.Command {
	var doc, name, dob, nat, sex, face, modelID, batch, socket, configPath string
	var limit int
	var truncated, daemon bool
	var th thresholdFlags
	c := &cobra.Command{
		Use:   "search (--doc STATE:NUMBER[:TYPE] | --name \"SURNAME, GIVEN\" [--dob YYYY[-MM[-DD]]] [--nat CODE] [--sex M|F] | --face EMBEDDING.json | --batch FILE|-)",
		Short: "Search the store like a desk check, with explained scores; --batch screens many travellers at once",
		Long: `Search the installed watchlist. --doc looks a document up (OCR variants of
the number included; a listed person's own document names the person),
--name runs the fuzzy person search (transliteration aware; add --dob, --nat,
--sex to corroborate), --face runs the 1:N face search with an embedding
file: a JSON array of 128 numbers, or a line of "checkpointctl vision embed
--json" output.

--batch FILE (or - for stdin) screens many travellers in one run: JSON Lines,
one traveller per line,

  {"id":"PAX-1","name":"AL<SHANQITI<<KHALID","birth_date":"1975-01-01","nationality":"MRT","sex":"M",
   "document_number":"A1234567","document_issuer":"MRT"}

(or "surname" and "given_names" instead of the MRZ-form "name"), and writes
one JSON result per line: {"line":N,"id":…,"hits":[…]} with the HIT and
POSSIBLE levels, or "error" for a line that could not be screened. With
--daemon the batch goes to the running checkpointd through its admin socket
(--socket, or the state directory of --config) and is screened against its
store with its thresholds; without, the store file is opened read-only.

Without --store, the store and its key are --config's, and while the
checkpointd serving that config runs, --doc and --name queries go through
its admin socket (it holds the store) and answer with the HIT and POSSIBLE
levels at the daemon's thresholds; --store FILE searches that file.

The output is personal data: show it to whoever is entitled to see it, do
not paste it into tickets.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			given := 0
			for _, f := range []string{doc, name, face, batch} {
				if f != "" {
					given++
				}
			}
			if given != 1 {
				return cli.Exit(2, errors.New("give exactly one of --doc, --name, --face or --batch"))
			}
			if batch != "" {
				return runBatchSearch(cmd, batch, daemon, socket, configPath, th)
			}
			if doc != "" || name != "" {
				kind, q, err := liveQuery(doc, name, dob, nat, sex, truncated, limit)
				if err != nil {
					return err
				}
				if out, ok, err := searchLive(cmd, configPath, th, kind, q); err != nil {
					return err
				} else if ok {
					if jsonOutput(cmd) {
						return cli.WriteJSONLine(cmd.OutOrStdout(), out)
					}
					printHits(cmd.OutOrStdout(), out)
					return nil
				}
			}
			s, err := openSearchStore(cmd, configPath, th)
			if err != nil {
				return err
			}
			defer s.Close()
			out := searchOutput{Hits: []watchlist.Hit{}}
			var errs []error
			switch {
			case doc != "":
				parts := strings.Split(doc, ":")
				if len(parts) < 2 || len(parts) > 3 {
					return cli.Exit(2, fmt.Errorf("--doc %q: want STATE:NUMBER[:TYPE]", doc))
				}
				typ := ""
				if len(parts) == 3 {
					typ = parts[2]
				}
				out.Query = "document"
				hits, err := s.ScreenPerson(cmd.Context(), watchlist.PersonQuery{DocumentIssuer: parts[0], DocumentNumber: parts[1], DocumentType: typ})
				if err != nil && !errors.Is(err, watchlist.ErrIntegrity) {
					return cli.Exit(2, err)
				}
				errs = append(errs, err)
				out.Hits = append(out.Hits, hits...)
			case name != "":
				q, err := personQuery(name, dob, nat, sex, truncated)
				if err != nil {
					return cli.Exit(2, err)
				}
				out.Query = "person"
				hits, err := s.SearchPerson(q, limit)
				if err != nil && !errors.Is(err, watchlist.ErrIntegrity) {
					return cli.Exit(2, err)
				}
				errs = append(errs, err)
				for _, h := range hits {
					out.Hits = append(out.Hits, watchlist.PersonHitOf(h))
				}
			default:
				vec, fileModel, err := readEmbedding(face)
				if err != nil {
					return cli.Exit(2, err)
				}
				if modelID == "" {
					modelID = fileModel
				}
				if modelID == "" {
					modelID = s.Meta().FaceModelID
				}
				out.Query = "face"
				hits, err := s.SearchFace(vec, modelID, limit)
				if err != nil && !errors.Is(err, watchlist.ErrIntegrity) {
					return cli.Exit(2, err)
				}
				errs = append(errs, err)
				for _, h := range hits {
					out.Hits = append(out.Hits, watchlist.FaceHitOf(h))
				}
			}
			for _, e := range errs {
				if e != nil {
					out.Errors = append(out.Errors, e.Error())
				}
			}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), out)
			}
			printHits(cmd.OutOrStdout(), out)
			return nil
		},
	}
	c.Flags().StringVar(&doc, "doc", "", "document: STATE:NUMBER[:TYPE], e.g. DEU:C01X00T47:P")
	c.Flags().StringVar(&name, "name", "", `person: "SURNAME, GIVEN NAMES" (any script) or an MRZ name field`)
	c.Flags().StringVar(&dob, "dob", "", "date of birth: YYYY, YYYY-MM or YYYY-MM-DD")
	c.Flags().StringVar(&nat, "nat", "", "nationality (ICAO code)")
	c.Flags().StringVar(&sex, "sex", "", "sex: M, F or X")
	c.Flags().BoolVar(&truncated, "truncated", false, "the name was cut at the end of the MRZ field")
	c.Flags().StringVar(&face, "face", "", "embedding file: JSON array of 128 numbers or a `vision embed --json` line")
	c.Flags().StringVar(&modelID, "model-id", "", "face model of the embedding (default: from the file, else the watchlist's)")
	c.Flags().IntVar(&limit, "limit", 10, "maximum hits")
	c.Flags().StringVar(&batch, "batch", "", "JSON Lines of travellers to screen (- = stdin); one JSON result per line")
	c.Flags().BoolVar(&daemon, "daemon", false, "batch: screen through the running checkpointd's admin socket")
	c.Flags().StringVar(&socket, "socket", "", "batch with --daemon: the admin socket (default: STATE_DIR/admin.sock of --config)")
	c.Flags().StringVar(&configPath, "config", techDefaultConfig, "checkpointd config: admin socket and thresholds")
	th.register(c)
	return c
}

func personQuery(name, dob, nat, sex string, truncated bool) (match.PersonQuery, error) {
	var q match.PersonQuery
	if strings.Contains(name, "<") {
		fn := match.ParseMRZName(name)
		q.Surname, q.GivenNames = fn.Surname, fn.GivenNames
	} else {
		sur, given, _ := strings.Cut(name, ",")
		q.Surname, q.GivenNames = strings.TrimSpace(sur), strings.Fields(given)
	}
	if strings.TrimSpace(q.Surname) == "" && len(q.GivenNames) == 0 {
		return q, fmt.Errorf("--name %q: empty name", name)
	}
	if dob != "" {
		d, err := match.ParseDate(dob)
		if err != nil {
			return q, fmt.Errorf("--dob %q: %w", dob, err)
		}
		q.Birth = d
	}
	q.Nationality, q.Sex, q.NameTruncated = nat, strings.ToUpper(sex), truncated
	return q, nil
}

// readEmbedding reads a JSON array of numbers or a `vision embed --json`
// line (first face).
func readEmbedding(path string) ([]float32, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	var vec []float32
	if json.Unmarshal(b, &vec) == nil {
		if len(vec) != watchlist.FaceDim {
			return nil, "", fmt.Errorf("%s: %d numbers, want %d", path, len(vec), watchlist.FaceDim)
		}
		return vec, "", nil
	}
	var line struct {
		Faces []struct {
			ModelID   string    `json:"model_id"`
			Embedding []float32 `json:"embedding"`
		} `json:"faces"`
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if json.Unmarshal(sc.Bytes(), &line) == nil && len(line.Faces) > 0 {
			f := line.Faces[0]
			if len(f.Embedding) != watchlist.FaceDim {
				return nil, "", fmt.Errorf("%s: embedding of %d numbers, want %d", path, len(f.Embedding), watchlist.FaceDim)
			}
			return f.Embedding, f.ModelID, nil
		}
	}
	return nil, "", fmt.Errorf("%s: neither a JSON array of %d numbers nor a `vision embed --json` line with a face", path, watchlist.FaceDim)
}

func printHits(w io.Writer, out searchOutput) {
	if len(out.Hits) == 0 {
		fmt.Fprintf(w, "no %s hits\n", out.Query)
	}
	for i, h := range out.Hits {
		level := strings.ToUpper(h.LevelOrHit())
		if h.Kind == watchlist.HitPerson && h.Level == "" {
			level = "below the possible band"
		}
		fmt.Fprintf(w, "%d. %s %s  %s  score %.2f (%s)  action %s\n", i+1, strings.ToUpper(h.Kind), h.RefID, level, h.Score, h.Strength, h.Action)
		if h.Person != nil {
			fmt.Fprintf(w, "   %s  born %s  %s  %s\n", h.Person.DisplayName, h.Person.Birth, h.Person.Nationality, h.Person.Sex)
			if h.Person.MatchedName != "" {
				fmt.Fprintf(w, "   matched %s: %s\n", h.Person.MatchedAs, h.Person.MatchedName)
			}
			for _, l := range h.Person.Lists {
				fmt.Fprintf(w, "   listed on %s %s (%s), updated %s\n", l.List, l.Reference, l.Programme, l.Updated)
			}
		}
		fmt.Fprintf(w, "   %s\n", h.Explanation)
		for _, f := range h.Fields {
			fmt.Fprintf(w, "     %-11s %.2f x %.2f  %s\n", f.Field, f.Score, f.Weight, f.Detail)
		}
	}
	for _, e := range out.Errors {
		fmt.Fprintf(w, "INTEGRITY: %s\n", e)
	}
}

func newWatchlistExportStatsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "export-stats",
		Short: "Aggregate counts (by source, status, category, action, state, nationality) and a full integrity check; no personal data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openWatchlist(cmd, watchlist.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			defer s.Close()
			rep, err := s.Verify(cmd.Context())
			if err != nil {
				return err
			}
			if jsonOutput(cmd) {
				if err := cli.WriteJSONLine(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "sequence %d: %d documents, %d persons, %d face templates\n", rep.Sequence, rep.Documents, rep.Persons, rep.Faces)
				fmt.Fprintf(w, "state hash %s (%s)\n", rep.StateHash, map[bool]string{true: "matches the installed version", false: "DOES NOT MATCH " + rep.MetaStateHash}[rep.StateHash == rep.MetaStateHash])
				for _, sec := range []struct {
					title string
					m     map[string]int64
				}{{"documents by issuing state", rep.DocumentsByState}, {"documents by status", rep.DocumentsByStatus},
					{"persons by category", rep.PersonsByCategory}, {"persons by nationality", rep.PersonsByNation},
					{"by source", rep.BySource}, {"by action", rep.ByAction}} {
					fmt.Fprintf(w, "%s:\n", sec.title)
					keys := make([]string, 0, len(sec.m))
					for k := range sec.m {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						fmt.Fprintf(w, "  %-28s %d\n", k, sec.m[k])
					}
				}
			}
			if !rep.Consistent {
				return cli.Exit(3, fmt.Errorf("integrity check failed: %d values failed authentication, state hash %s vs %s", rep.IntegrityErrs, rep.StateHash, rep.MetaStateHash))
			}
			return nil
		},
	}
}

func newWatchlistSynthCmd() *cobra.Command {
	var cfg synth.Config
	var out string
	c := &cobra.Command{
		Use:   "synth --out FILE.jsonl [--docs N] [--persons N] [--faces N] [--seed S] [--model-id ID]",
		Short: "Write a deterministic synthetic watchlist (JSON Lines, .gz compresses) for tests, benchmarks and demos",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return cli.Exit(2, errors.New("--out is required"))
			}
			if cfg.Docs < 0 || cfg.Persons < 0 || cfg.Faces < 0 {
				return cli.Exit(2, errors.New("counts must not be negative"))
			}
			if cfg.Faces > 0 && cfg.FaceModelID == "" {
				return cli.Exit(2, errors.New("--faces needs --model-id"))
			}
			g := synth.New(cfg)
			bar := newCounterBar(cmd, g.Total(), "generating")
			t0 := time.Now()
			err := atomicfile.Write(out, 0o600, func(w io.Writer) error {
				bw := bufio.NewWriterSize(w, 1<<20)
				var dst io.Writer = bw
				var zw *gzip.Writer
				if strings.HasSuffix(out, ".gz") {
					zw = gzip.NewWriter(bw)
					dst = zw
				}
				if err := synth.WriteJSONL(dst, g, func(n int64) {
					if bar != nil {
						bar.Set64(n)
					}
				}); err != nil {
					return err
				}
				if zw != nil {
					if err := zw.Close(); err != nil {
						return err
					}
				}
				return bw.Flush()
			})
			if err != nil {
				return err
			}
			if bar != nil {
				bar.Finish()
			}
			res := map[string]any{"out": out, "records": g.Total(), "seconds": time.Since(t0).Seconds(), "seed": cfg.Seed}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d synthetic records to %s\n", g.Total(), out)
			return nil
		},
	}
	c.Flags().Int64Var(&cfg.Docs, "docs", 1000, "document alerts")
	c.Flags().Int64Var(&cfg.Persons, "persons", 100, "listed persons")
	c.Flags().Int64Var(&cfg.Faces, "faces", 0, "persons with a face template (random unit vectors)")
	c.Flags().Uint64Var(&cfg.Seed, "seed", 1, "seed: the same seed gives the same file")
	c.Flags().StringVar(&cfg.FaceModelID, "model-id", "", "face model id of the templates")
	c.Flags().StringVar(&out, "out", "", "output file (.jsonl or .jsonl.gz)")
	return c
}
