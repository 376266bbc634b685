package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
	"github.com/checkpoint-edge/checkpoint/sync/pull"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/lists"
)

// exitRefused is the exit code of a bundle that verification refused, so
// that scripts can tell "refused" (3) from usage errors (2) and failures (1).
const exitRefused = 3

func init() {
	watchlistCmd.PersistentFlags().String("trust", "/etc/checkpoint/trust.json", "root of trust file (bundles)")
	watchlistCmd.PersistentFlags().String("identity", "", "age identity that decrypts bundles: file:PATH, credential:NAME or a path")
	watchlistCmd.AddCommand(newBundleBuildCmd(), newBundlePublishCmd(), newBundlePullCmd(), newBundleVerifyCmd())
	importBundleHook = importBundle
}

// isBundle reports whether path starts like a bundle: age-encrypted or a
// bare signed bundle.
func isBundleFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 22)
	n, _ := io.ReadFull(f, b)
	b = b[:n]
	return strings.HasPrefix(string(b), "age-encryption.org/v1") || strings.HasPrefix(string(b), bundle.Magic)
}

// refusedErr gives verification refusals their exit code.
func refusedErr(err error) error {
	for _, s := range []error{bundle.ErrFormat, bundle.ErrBadSignature, bundle.ErrUnknownSigner, bundle.ErrSignerExpired,
		bundle.ErrSignerRevoked, bundle.ErrRollback, bundle.ErrBaseMismatch, bundle.ErrWatchlistMismatch,
		bundle.ErrStateMismatch, bundle.ErrExpired, bundle.ErrTooLarge, bundle.ErrTruncated, bundle.ErrNotForThisUnit,
		bundle.ErrDecrypt, bundle.ErrUnencrypted, bundle.ErrWrongKind, bundle.ErrChannelMismatch, bundle.ErrRejected} {
		if errors.Is(err, s) {
			return cli.Exit(exitRefused, fmt.Errorf("bundle refused, nothing changed: %w", err))
		}
	}
	return err
}

func bundleFlag(cmd *cobra.Command, name string) string {
	v, _ := cmd.Flags().GetString(name)
	return v
}

// verifyOptions reads --trust and --identity.
func bundleVerifyOptions(cmd *cobra.Command) (bundle.Options, error) {
	return bundleOptionsFrom(bundleFlag(cmd, "trust"), bundleFlag(cmd, "identity"), "--trust", "--identity")
}

// bundleOptionsFrom loads a root of trust and an identity (empty: none);
// trustName and idName name them in errors.
func bundleOptionsFrom(trustPath, identity, trustName, idName string) (bundle.Options, error) {
	var o bundle.Options
	root, err := trust.Load(trustPath)
	if err != nil {
		return o, cli.Exit(2, fmt.Errorf("%s: %w", trustName, err))
	}
	o.Trust = root
	if identity != "" {
		ids, err := bundle.LoadIdentities(identity)
		if err != nil {
			return o, cli.Exit(2, fmt.Errorf("%s: %w", idName, err))
		}
		o.Identities = ids
	}
	return o, nil
}

// progress draws one bar per phase on stderr (not with --json).
func bundleProgress(cmd *cobra.Command) (func(phase string, done, total int64), func()) {
	if jsonOutput(cmd) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	var cur string
	finish := func() {
		if bar != nil {
			bar.Finish()
			fmt.Fprintln(cmd.ErrOrStderr())
		}
	}
	return func(phase string, done, total int64) {
		if phase != cur {
			finish()
			cur = phase
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
				progressbar.OptionSetDescription(phase), progressbar.OptionShowBytes(true),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetWidth(30))
		}
		bar.Set64(done)
	}, finish
}

// openWatchlist opens the store named by --store with the KEK from keyFlag.
func openBundleStore(cmd *cobra.Command, keyFlag string) (*watchlist.Store, error) {
	path := bundleFlag(cmd, "store")
	if path == "" {
		return nil, cli.Exit(2, errors.New("--store is required"))
	}
	kp, err := seal.ParseProvider(bundleFlag(cmd, keyFlag))
	if err != nil {
		return nil, cli.Exit(2, fmt.Errorf("--%s: %w", keyFlag, err))
	}
	return watchlist.Open(path, kp, watchlist.Options{Timeout: 10 * time.Second})
}

// installReport is what import and pull print per installed bundle.
type installReport struct {
	Installed   bool      `json:"installed"`
	WatchlistID string    `json:"watchlist_id"`
	Sequence    uint64    `json:"sequence"`
	Base        uint64    `json:"base_sequence"`
	Puts        int64     `json:"puts"`
	Deletes     int64     `json:"deletes"`
	StateHash   string    `json:"state_hash"`
	ExpiresAt   time.Time `json:"expires_at"`
	Signer      string    `json:"signer"`
	Seconds     float64   `json:"seconds"`
}

// importBundle is the sideload path of 'watchlist import FILE': the file
// is copied off the stick into a private file beside the store (it stays
// encrypted), verified and applied through the same code as a pull.
func importBundle(cmd *cobra.Command, path string) (bool, error) {
	if !isBundleFile(path) {
		return false, nil
	}
	opts, err := bundleVerifyOptions(cmd)
	if err != nil {
		return true, err
	}
	store, err := openBundleStore(cmd, "key")
	if err != nil {
		return true, err
	}
	defer store.Close()
	prog, finish := bundleProgress(cmd)
	opts.Progress = prog
	tmp, err := bundleCopyPrivate(cmd.Context(), path, filepath.Dir(store.Path()), prog)
	if err != nil {
		finish()
		return true, err
	}
	defer os.Remove(tmp)
	t0 := time.Now()
	v, err := bundle.Install(cmd.Context(), tmp, store, opts)
	finish()
	if err != nil {
		return true, refusedErr(err)
	}
	return true, printInstall(cmd, v, time.Since(t0))
}

func printInstall(cmd *cobra.Command, v *bundle.Verified, d time.Duration) error {
	h := v.Header
	r := installReport{Installed: true, WatchlistID: h.WatchlistID, Sequence: h.Sequence, Base: h.BaseSequence,
		Puts: h.Puts, Deletes: h.Deletes, StateHash: h.StateHash, ExpiresAt: h.ExpiresAt, Signer: h.KeyID, Seconds: d.Seconds()}
	if jsonOutput(cmd) {
		return cli.WriteJSONLine(cmd.OutOrStdout(), r)
	}
	kind := "full"
	if h.BaseSequence != 0 {
		kind = fmt.Sprintf("delta from %d", h.BaseSequence)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "installed %s sequence %d (%s): %d puts, %d deletes, expires %s, signed by %s, in %.1fs\n",
		h.WatchlistID, h.Sequence, kind, h.Puts, h.Deletes, h.ExpiresAt.Format(time.RFC3339), h.KeyID, d.Seconds())
	return nil
}

// copyPrivate copies src to a new 0600 file in dir.
func bundleCopyPrivate(ctx context.Context, src, dir string, prog func(string, int64, int64)) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return "", err
	}
	out, err := os.CreateTemp(dir, ".sideload-*.cpwl")
	if err != nil {
		return "", err
	}
	var done int64
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			out.Close()
			os.Remove(out.Name())
			return "", err
		}
		n, rerr := in.Read(buf)
		if n > 0 {
			if _, err := out.Write(buf[:n]); err != nil {
				out.Close()
				os.Remove(out.Name())
				return "", err
			}
			done += int64(n)
			if prog != nil {
				prog("copy", done, st.Size())
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			out.Close()
			os.Remove(out.Name())
			return "", fmt.Errorf("read %s: %w", src, rerr)
		}
	}
	if err := out.Close(); err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), nil
}

func newBundleBuildCmd() *cobra.Command {
	var (
		sign, out, id, authority, faceModel, tmpDir, reportPath, photos string
		kind, ch                                                        string
		from, prev, to                                                  []string
		seq, base                                                       uint64
		expires                                                         time.Duration
		lopts                                                           lists.Options
	)
	c := &cobra.Command{
		Use:   "build --from SOURCE... --seq N --sign KEY --to RECIPIENT --out FILE",
		Short: "Build a signed, encrypted watchlist bundle from a plain source or from the sanctions lists (full, or a delta with --base and --prev)",
		Long: `Build a bundle from a plain source (JSON Lines of changes or CSV, optionally
.gz; its "meta" header line gives defaults for --watchlist-id, --authority
and --face-model) or from the lists headquarters receives, named by kind:

  --from un:UN_consolidated.xml --from ofac:DIR --from csl:csl.csv

(ofac:DIR holds OFAC's sdn.csv/alt.csv/sdn_comments.csv or the Consolidated
list's cons_prim.csv/cons_alt.csv/cons_comments.csv). The lists are parsed,
countries mapped to ICAO codes, the same person on several lists merged
into one record with every reference (watchlist/lists, resolve.go), and
each listed identity document with a known issuing state becomes a document
alert linked to its person. The import report (persons, skipped entities,
links, country spellings that did not map) goes to stderr, or with
--report to a JSON file.

--base 0 builds a full snapshot; --base N builds a delta from the previous
snapshot --prev (the same kinds: a JSON Lines snapshot, or the previous
editions of the lists as un:/ofac:/csl: sources) to --from: puts for new and
changed records, deletes for removed ones, so a new edition of a list gives
a delta with only the changed persons. The bundle is signed with --sign (an
issuing-authority key listed in the units' root of trust) and encrypted to
every --to recipient (age1… keys or files of them: the fleet key or
individual units). FILE.header.json, the signed header without any record,
is written beside it for 'watchlist publish'.

With --kind trust|alerts|prearrival|… and --channel NAME it builds a channel
bundle instead: --from is then JSON Lines of records
({"id":…,"expires_at":…,"data":{…}}), the channel's whole content; --seq 0
takes the current Unix time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kind != "" && kind != bundle.KindWatchlist {
				if len(from) != 1 || sign == "" || out == "" || len(to) == 0 {
					return cli.Exit(2, errors.New("--from (one file), --sign, --to and --out are required"))
				}
				return buildChannel(cmd, kind, ch, from[0], sign, out, authority, to, seq, expires)
			}
			if len(from) == 0 || sign == "" || out == "" || seq == 0 || len(to) == 0 {
				return cli.Exit(2, errors.New("--from, --seq, --sign, --to and --out are required"))
			}
			if base != 0 && len(prev) == 0 {
				return cli.Exit(2, errors.New("a delta (--base N) needs --prev, the snapshot of sequence N"))
			}
			if base >= seq {
				return cli.Exit(2, fmt.Errorf("--base %d must be lower than --seq %d", base, seq))
			}
			if err := watchlist.CheckSequence(seq); err != nil {
				return cli.Exit(2, fmt.Errorf("--seq: %w", err))
			}
			key, err := trust.ReadPrivateKey(sign)
			if err != nil {
				return cli.Exit(2, fmt.Errorf("--sign: %w", err))
			}
			rcpts, err := bundle.ParseRecipients(to)
			if err != nil {
				return cli.Exit(2, fmt.Errorf("--to: %w", err))
			}
			if photos != "" { // enrolment gate and templates (enrol.go)
				if len(from) != 1 || len(prev) > 1 || isListSources(from) {
					return cli.Exit(2, errors.New("--photos enrols into one plain --from source (JSON Lines or CSV); build the lists into a snapshot first"))
				}
				f0, p0 := from[0], ""
				if len(prev) == 1 {
					p0 = prev[0]
				}
				cleanup, err := enrolForBuild(cmd, photos, tmpDir, &f0, &p0)
				if err != nil {
					return err
				}
				defer cleanup()
				from = []string{f0}
				if p0 != "" {
					prev = []string{p0}
				}
			}
			var closers []io.Closer
			defer func() {
				for _, c := range closers {
					c.Close()
				}
			}()
			// open returns a fresh source over a set of --from/--prev
			// values (Diff reads the new snapshot twice).
			open := func(srcs []string, what string) (func() (watchlist.ChangeSource, error), *watchlist.Header, error) {
				if isListSources(srcs) {
					snap, err := buildListSnapshot(cmd, srcs, lopts, reportPath, what)
					if err != nil {
						return nil, nil, err
					}
					return func() (watchlist.ChangeSource, error) { return snap.Changes(), nil }, nil, nil
				}
				if len(srcs) != 1 {
					return nil, nil, cli.Exit(2, fmt.Errorf("--%s: one plain source, or un:/ofac:/csl: lists", what))
				}
				var hdr *watchlist.Header
				fn := func() (watchlist.ChangeSource, error) {
					s, c, err := watchlist.OpenSource(srcs[0])
					if err != nil {
						return nil, err
					}
					closers = append(closers, c)
					if h, ok := s.Header(); ok && hdr == nil {
						hdr = &h
					}
					return s, nil
				}
				if _, err := fn(); err != nil { // read the header now
					return nil, nil, err
				}
				return fn, hdr, nil
			}
			next, hdr, err := open(from, "from")
			if err != nil {
				return err
			}
			if hdr != nil {
				id = bundleCmpOr(id, hdr.WatchlistID)
				authority = bundleCmpOr(authority, hdr.Authority)
				faceModel = bundleCmpOr(faceModel, hdr.FaceModelID)
			}
			if id == "" {
				return cli.Exit(2, errors.New("--watchlist-id is required (or a meta header line in --from)"))
			}
			now := time.Now()
			opts := bundle.BuildOptions{
				WatchlistID: id, Sequence: seq, BaseSequence: base, IssuedAt: now, ExpiresAt: now.Add(expires),
				Authority: authority, FaceModelID: faceModel, Key: key, Recipients: rcpts, TempDir: tmpDir,
			}
			changes, err := next()
			if err != nil {
				return err
			}
			if base != 0 {
				prevOpen, _, err := open(prev, "prev")
				if err != nil {
					return err
				}
				p, err := prevOpen()
				if err != nil {
					return err
				}
				changes, opts.State, err = bundle.Diff(p, next)
				if err != nil {
					return err
				}
			}
			var signed *bundle.Signed
			err = bundleAtomicWrite(out, func(w io.Writer) error {
				var err error
				signed, err = bundle.Build(cmd.Context(), w, changes, opts)
				return err
			})
			if err != nil {
				return err
			}
			if err := bundleWriteJSON(bundle.HeaderFile(out), signed); err != nil {
				return err
			}
			h, _ := signed.Decode()
			return printBundleHeader(cmd, out, h, "built")
		},
	}
	f := c.Flags()
	f.StringArrayVar(&from, "from", nil, "source: a JSON Lines/CSV snapshot (.gz ok), or lists un:FILE, ofac:DIR, csl:FILE (repeatable)")
	f.StringArrayVar(&prev, "prev", nil, "previous snapshot for a delta: a JSON Lines snapshot or the previous lists (repeatable)")
	f.Uint64Var(&seq, "seq", 0, "sequence number of the new version")
	f.Uint64Var(&base, "base", 0, "base sequence of a delta (0 = full bundle)")
	f.StringVar(&sign, "sign", "", "issuing-authority private key file")
	f.StringSliceVar(&to, "to", nil, "age recipients (age1… or files), repeatable")
	f.StringVar(&out, "out", "", "bundle file to write")
	f.DurationVar(&expires, "expires", 48*time.Hour, "validity of the bundle from now")
	f.StringVar(&id, "watchlist-id", "", "watchlist id")
	f.StringVar(&authority, "authority", "", "issuing authority name")
	f.StringVar(&faceModel, "face-model", "", "face model id of the templates")
	f.StringVar(&tmpDir, "tmp", "", "directory for the (encrypted) temporary payload")
	f.StringVar(&reportPath, "report", "", "lists: write the import report (JSON, no names) to this file instead of stderr")
	f.StringVar(&lopts.Category, "category", "sanctions", "lists: category of the imported persons")
	f.StringVar(&lopts.Action, "action", watchlist.ActionRefer, "lists: action on a hit (arrest, refer, discreet_check, alert_only)")
	f.IntVar(&lopts.ApproxYears, "approx-years", 2, "lists: ± years of an approximate year of birth")
	f.StringVar(&kind, "kind", "", "bundle kind: watchlist (default) or a channel kind (trust, alerts, prearrival, …)")
	f.StringVar(&ch, "channel", "", "channel name, for a channel bundle")
	f.StringVar(&photos, "photos", "", "person_id,file list: enrol these photos as face templates first (watchlist enrol)")
	addPipelineFlags(f)
	return c
}

func bundleCmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func bundleAtomicWrite(path string, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	ok = true
	return nil
}

func bundleWriteJSON(path string, v any) error {
	return bundleAtomicWrite(path, func(w io.Writer) error { return cli.WriteJSONLine(w, v) })
}

// headerReport is what build and verify print.
type headerReport struct {
	Action string         `json:"action"`
	File   string         `json:"file"`
	Header *bundle.Header `json:"header"`
	Signer string         `json:"signer_name,omitempty"`
}

func printBundleHeader(cmd *cobra.Command, file string, h *bundle.Header, action string) error {
	return printBundleHeaderSigner(cmd, file, h, action, "")
}

func printBundleHeaderSigner(cmd *cobra.Command, file string, h *bundle.Header, action, signer string) error {
	if jsonOutput(cmd) {
		return cli.WriteJSONLine(cmd.OutOrStdout(), headerReport{Action: action, File: file, Header: h, Signer: signer})
	}
	w := cmd.OutOrStdout()
	kind := "full snapshot"
	if h.BaseSequence != 0 {
		kind = fmt.Sprintf("delta from sequence %d", h.BaseSequence)
	}
	fmt.Fprintf(w, "%s %s\n  watchlist   %s\n  sequence    %d (%s)\n  issued      %s\n  expires     %s\n  authority   %s\n  signed by   %s %s\n  records     %d puts, %d deletes\n  state       %d documents, %d persons, %d faces, hash %s\n  payload     %d bytes compressed, %d raw, sha256 %s\n",
		action, file, h.WatchlistID, h.Sequence, kind, h.IssuedAt.Format(time.RFC3339), h.ExpiresAt.Format(time.RFC3339),
		h.Authority, h.KeyID, signer, h.Puts, h.Deletes, h.Documents, h.Persons, h.Faces, h.StateHash,
		h.PayloadSize, h.RawSize, h.PayloadSHA256)
	return nil
}

func newBundlePublishCmd() *cobra.Command {
	var dir string
	var keep int
	c := &cobra.Command{
		Use:   "publish --dir DIR FILE",
		Short: "Publish a bundle into the static layout DIR/<watchlist-id>/ and update index.json",
		Long: `Copy FILE into DIR/<watchlist-id>/ under its conventional name and update
index.json there (see sync/bundle/FORMAT.md). The signed header is read
from FILE.header.json (written by 'watchlist build'), so publishing needs
no decryption key. DIR can be served by checkpoint-hub, any web server or
an S3-compatible bucket.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return cli.Exit(2, errors.New("--dir is required"))
			}
			signed, err := bundle.ReadSigned(bundle.HeaderFile(args[0]))
			if err != nil {
				return cli.Exit(2, err)
			}
			e, err := bundle.Publish(dir, args[0], signed, time.Now(), keep)
			if err != nil {
				return err
			}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), e)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "published %s (sequence %d, base %d, %d bytes, sha256 %s)\n", e.File, e.Sequence, e.Base, e.Size, e.SHA256)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "publication directory")
	c.Flags().IntVar(&keep, "keep-full", 0, "full bundles to keep listed (0 = all); older files are removed")
	return c
}

func newBundlePullCmd() *cobra.Command {
	var (
		url, cert, key, ca, storeKey, id, dlDir string
		rate                                    int64
	)
	c := &cobra.Command{
		Use:   "pull --url https://HUB/v1/bundles/ --cert UNIT.crt --key UNIT.key --ca CA.crt --store FILE --store-key KEK",
		Short: "Pull the watchlist from the hub once (mutual TLS, resumable) and install it",
		Long: `Fetch index.json for --watchlist-id under --url, choose the delta chain from
the installed sequence (else the full bundle), download with resume, verify
and install. --cert/--key are the unit's TLS client certificate and key,
--ca the pinned fleet CA; --store-key is the store's key-encryption key
(file:PATH, credential:NAME or env:VAR). Exit code 3: a bundle was refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" || cert == "" || key == "" || ca == "" || id == "" {
				return cli.Exit(2, errors.New("--url, --cert, --key, --ca and --watchlist-id are required"))
			}
			opts, err := bundleVerifyOptions(cmd)
			if err != nil {
				return err
			}
			tlsConf, err := pki.ClientConfig(cert, key, ca)
			if err != nil {
				return cli.Exit(2, err)
			}
			store, err := openBundleStore(cmd, "store-key")
			if err != nil {
				return err
			}
			defer store.Close()
			if dlDir == "" {
				dlDir = store.Path() + ".downloads"
			}
			p, err := pull.New(pull.Config{BaseURL: url, WatchlistID: id, TLS: tlsConf, Dir: dlDir, Store: store,
				Bundle: opts, RateLimit: rate})
			if err != nil {
				return cli.Exit(2, err)
			}
			defer p.Close()
			res, err := p.Once(cmd.Context())
			if err != nil {
				return refusedErr(err)
			}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), res)
			}
			w := cmd.OutOrStdout()
			switch {
			case len(res.Installed) == 0 && res.NotModified:
				fmt.Fprintf(w, "up to date at sequence %d (index not modified)\n", res.Sequence)
			case len(res.Installed) == 0:
				fmt.Fprintf(w, "up to date at sequence %d (hub latest %d)\n", res.Sequence, res.Latest)
			default:
				fmt.Fprintf(w, "installed sequences %v; now at %d\n", res.Installed, res.Sequence)
			}
			for _, d := range res.Downloads {
				fmt.Fprintf(w, "  downloaded %d bytes for a %d-byte file in %d requests (%d resumed)\n", d.Bytes, d.Size, d.Requests, d.Resumes)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&url, "url", "", "base URL of the publication layout")
	f.StringVar(&cert, "cert", "", "unit TLS client certificate")
	f.StringVar(&key, "key", "", "unit TLS client key")
	f.StringVar(&ca, "ca", "", "pinned fleet CA certificate")
	f.StringVar(&storeKey, "store-key", defaultStoreKey, "store key-encryption key: file:PATH, credential:NAME or env:VAR")
	f.StringVar(&id, "watchlist-id", "", "watchlist to pull")
	f.StringVar(&dlDir, "download-dir", "", "where partial downloads live (default STORE.downloads)")
	f.Int64Var(&rate, "rate", 0, "bandwidth cap in bytes per second (0 = none)")
	return c
}

func newBundleVerifyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "verify FILE",
		Short: "Verify a bundle completely without applying it, and print its header",
		Long: `Decrypt (with --identity), check the signature against --trust, the payload
hash, size limits and every record, and print the header. With --store (and
--key) the bundle is also checked against the installed version (rollback,
delta base). Exit code 3: refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := bundleVerifyOptions(cmd)
			if err != nil {
				return err
			}
			var installed *watchlist.Meta
			if bundleFlag(cmd, "store") != "" {
				s, err := openBundleStore(cmd, "key")
				if err != nil {
					return err
				}
				m := s.Meta()
				s.Close()
				installed = &m
			}
			prog, finish := bundleProgress(cmd)
			opts.Progress = prog
			v, err := bundle.Verify(cmd.Context(), args[0], installed, opts)
			finish()
			if err != nil {
				return refusedErr(err)
			}
			return printBundleHeaderSigner(cmd, args[0], v.Header, "verified", v.SignerName)
		},
	}
	// Local, empty by default: verifying on a headquarters machine needs no
	// store; --key (the store's key) is inherited.
	c.Flags().String("store", "", "check against this store's installed version")
	return c
}
