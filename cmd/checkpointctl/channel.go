package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
	"github.com/checkpoint-edge/checkpoint/sync/pull"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
)

// channelConsumers makes the consumer of each channel kind this build
// knows, for checking the records of a sideloaded bundle. Each subsystem
// registers its kind from an init function in its own file.
var channelConsumers = map[string]func() channel.Consumer{}

const (
	defaultChannelsPath = "/var/lib/checkpoint/channels.db"
	defaultConfigPath   = "/etc/checkpoint/checkpointd.yaml"
)

// bundleCmd handles bundles of every kind: the watchlist and the data
// channels (trust lists, shared alerts, pre-arrival alerts).
var bundleCmd = &cobra.Command{
	Use:   "bundle",
	Short: "Signed bundles of every kind: watchlist and data channels (trust, alerts, prearrival)",
	Long: `Build, publish, verify, import and pull signed, encrypted bundles. A bundle's
header names its kind: the watchlist (no kind), or a data channel such as
trust/icao (CSCA master lists), alerts/national (shared hits) or
prearrival/LHR (pre-arrival alerts for an arrival port). Commands dispatch by
kind; see sync/bundle/FORMAT.md. Exit code 3: a bundle was refused and
nothing changed.`,
}

func init() {
	f := bundleCmd.PersistentFlags()
	f.String("trust", "/etc/checkpoint/trust.json", "root of trust file (bundles)")
	f.String("identity", "", "age identity that decrypts bundles: file:PATH, credential:NAME or a path")
	f.String("store", defaultStorePath, "watchlist store file (watchlist bundles)")
	f.String("key", defaultStoreKey, "watchlist store key-encryption key")
	f.String("channels", defaultChannelsPath, "channel store file (channel bundles)")
	f.String("channels-key", defaultStoreKey, "channel store key-encryption key: file:PATH, credential:NAME or env:VAR")
	f.String("config", defaultConfigPath, "unit config, for its audit log (sideloads are recorded when it is readable)")
	bundleCmd.AddCommand(newBundleBuildCmd(), newBundlePublishCmd(), newChannelVerifyCmd(), newChannelImportCmd(),
		newChannelPullCmd(), newChannelListCmd())
	rootCmd.AddCommand(bundleCmd)
}

// channelRegistry is a registry of this build's consumers.
func channelRegistry() *channel.Registry {
	reg := channel.NewRegistry()
	for kind, mk := range channelConsumers {
		reg.Register(kind, mk())
	}
	return reg
}

// openChannelStore opens the store named by --channels/--channels-key.
func openChannelStore(cmd *cobra.Command) (*channel.Store, error) {
	path := bundleFlag(cmd, "channels")
	kp, err := seal.ParseProvider(bundleFlag(cmd, "channels-key"))
	if err != nil {
		return nil, cli.Exit(2, fmt.Errorf("--channels-key: %w", err))
	}
	s, err := channel.Open(path, kp, channel.Options{Timeout: 3 * time.Second})
	if errors.Is(err, channel.ErrLocked) {
		return nil, fmt.Errorf("%w (checkpointd holds it: stop it, or let the unit pull from the hub)", err)
	}
	return s, err
}

// channelReport is what import and pull print for a channel install.
type channelReport struct {
	Installed bool          `json:"installed"`
	State     channel.State `json:"state"`
	Signer    string        `json:"signer"`
	Seconds   float64       `json:"seconds"`
}

func printChannelInstall(cmd *cobra.Command, st channel.State, signer string, d time.Duration) error {
	if jsonOutput(cmd) {
		return cli.WriteJSONLine(cmd.OutOrStdout(), channelReport{Installed: true, State: st, Signer: signer, Seconds: d.Seconds()})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "installed %s/%s sequence %d: %d records, expires %s, signed by %s, in %.1fs\n",
		st.Kind, st.Channel, st.Sequence, st.Records, st.ExpiresAt.Format(time.RFC3339), signer, d.Seconds())
	return nil
}

func newChannelImportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Install a bundle from a file (USB stick): the watchlist into --store, a channel into --channels",
		Long: `Verify FILE completely (decryption with --identity, signature against --trust,
expiry, rollback, sizes, every record, and the channel consumer's own checks)
and install it: a watchlist bundle into --store, a channel bundle into
--channels as a whole replacement of that channel. The file is copied off the
stick first; it stays encrypted. checkpointd must not be running (it holds the
stores). Sideloads are recorded in the unit's audit log (--config).
Exit code 3: refused, nothing changed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := bundleVerifyOptions(cmd)
			if err != nil {
				return err
			}
			if !isBundleFile(args[0]) {
				return cli.Exit(exitRefused, fmt.Errorf("bundle refused, nothing changed: %w: %s", bundle.ErrFormat, args[0]))
			}
			hv, err := bundle.ReadHeader(args[0], opts)
			if err != nil {
				return refusedErr(err)
			}
			if !hv.Header.IsChannel() {
				_, err := importBundle(cmd, args[0])
				return err
			}
			store, err := openChannelStore(cmd)
			if err != nil {
				return err
			}
			defer store.Close()
			tmp, err := bundleCopyPrivate(cmd.Context(), args[0], filepath.Dir(store.Path()), nil)
			if err != nil {
				return err
			}
			defer os.Remove(tmp)
			t0 := time.Now()
			reg := channelRegistry()
			var installed channel.State
			reg.OnInstall = func(st channel.State) { installed = st }
			v, err := channel.Install(cmd.Context(), tmp, store, reg, nil, opts)
			if err != nil {
				return refusedErr(err)
			}
			if ta, aerr := openTechAudit(bundleFlag(cmd, "config"), false, cmd.ErrOrStderr()); aerr == nil && ta != nil {
				ta.record(audit.KindWatchlistChange, "channel_sideloaded", map[string]string{
					"kind": installed.Kind, "channel": installed.Channel, "sequence": fmt.Sprint(installed.Sequence),
					"records": fmt.Sprint(installed.Records), "key_id": installed.KeyID})
				ta.Close()
			}
			return printChannelInstall(cmd, installed, v.SignerName, time.Since(t0))
		},
	}
}

func newChannelVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE",
		Short: "Verify a bundle of any kind completely without installing it, and print its header",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := bundleVerifyOptions(cmd)
			if err != nil {
				return err
			}
			hv, err := bundle.ReadHeader(args[0], opts)
			if err != nil {
				return refusedErr(err)
			}
			h := hv.Header
			if !h.IsChannel() {
				v, err := bundle.Verify(cmd.Context(), args[0], nil, opts)
				if err != nil {
					return refusedErr(err)
				}
				return printBundleHeaderSigner(cmd, args[0], v.Header, "verified", v.SignerName)
			}
			v, recs, err := bundle.ReadChannel(cmd.Context(), args[0], opts)
			if err != nil {
				return refusedErr(err)
			}
			consumer := "none in this build"
			if mk, ok := channelConsumers[h.Kind]; ok {
				if err := mk().Validate(h.Channel, recs); err != nil {
					return cli.Exit(exitRefused, fmt.Errorf("bundle refused: %w: %w", bundle.ErrRejected, err))
				}
				consumer = "accepts the records"
			}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), headerReport{Action: "verified", File: args[0], Header: v.Header, Signer: v.SignerName})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "verified %s\n  channel     %s/%s\n  sequence    %d\n  issued      %s\n  expires     %s\n  authority   %s\n  signed by   %s %s\n  records     %d (consumer: %s)\n  payload     %d bytes compressed, %d raw, sha256 %s\n",
				args[0], h.Kind, h.Channel, h.Sequence, h.IssuedAt.Format(time.RFC3339), h.ExpiresAt.Format(time.RFC3339),
				h.Authority, h.KeyID, v.SignerName, len(recs), consumer, h.PayloadSize, h.RawSize, h.PayloadSHA256)
			return nil
		},
	}
}

func newChannelPullCmd() *cobra.Command {
	var url, cert, key, ca, kind, ch, dlDir string
	c := &cobra.Command{
		Use:   "pull --kind KIND --channel NAME --url https://HUB/v1/bundles/ --cert UNIT.crt --key UNIT.key --ca CA.crt",
		Short: "Pull one data channel from the hub once (mutual TLS, resumable) and install it into --channels",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" || cert == "" || key == "" || ca == "" || kind == "" || ch == "" {
				return cli.Exit(2, errors.New("--kind, --channel, --url, --cert, --key and --ca are required"))
			}
			opts, err := bundleVerifyOptions(cmd)
			if err != nil {
				return err
			}
			tlsConf, err := pki.ClientConfig(cert, key, ca)
			if err != nil {
				return cli.Exit(2, err)
			}
			store, err := openChannelStore(cmd)
			if err != nil {
				return err
			}
			defer store.Close()
			if dlDir == "" {
				dlDir = store.Path() + ".downloads"
			}
			reg := channelRegistry()
			p, err := pull.New(pull.Config{BaseURL: url, TLS: tlsConf, Dir: filepath.Join(dlDir, kind+"-"+ch),
				Target: &channel.Target{Store: store, Registry: reg, Kind: kind, Channel: ch, Bundle: opts}})
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
			if len(res.Installed) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s/%s up to date at sequence %d\n", kind, ch, res.Sequence)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s/%s: installed sequence %d\n", kind, ch, res.Sequence)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&url, "url", "", "base URL of the publication layout")
	f.StringVar(&cert, "cert", "", "unit TLS client certificate")
	f.StringVar(&key, "tls-key", "", "unit TLS client key")
	f.StringVar(&ca, "ca", "", "pinned fleet CA certificate")
	f.StringVar(&kind, "kind", "", "channel kind (trust, alerts, prearrival, …)")
	f.StringVar(&ch, "channel", "", "channel name (e.g. the arrival port for prearrival)")
	f.StringVar(&dlDir, "download-dir", "", "where partial downloads live (default CHANNELS.downloads)")
	return c
}

func newChannelListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the data channels installed on this unit: sequence, records, expiry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := openChannelStore(cmd)
			if err != nil {
				return err
			}
			defer store.Close()
			states, err := store.States()
			if err != nil {
				return err
			}
			if jsonOutput(cmd) {
				for _, st := range states {
					if err := cli.WriteJSONLine(cmd.OutOrStdout(), st); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CHANNEL\tSEQUENCE\tRECORDS\tINSTALLED\tEXPIRES\t")
			now := time.Now()
			for _, st := range states {
				exp := st.ExpiresAt.Format(time.RFC3339)
				if st.Expired(now) {
					exp += " (EXPIRED)"
				}
				fmt.Fprintf(tw, "%s/%s\t%d\t%d\t%s\t%s\t\n", st.Kind, st.Channel, st.Sequence, st.Records,
					st.InstalledAt.Format(time.RFC3339), exp)
			}
			return tw.Flush()
		},
	}
}

// buildChannel is 'bundle build --kind K --channel C': --from is JSON
// Lines of records ({"id":…,"expires_at":…,"data":…}).
func buildChannel(cmd *cobra.Command, kind, ch, from, sign, out, authority string, to []string, seq uint64, expires time.Duration) error {
	if ch == "" {
		return cli.Exit(2, errors.New("--channel is required for a channel bundle"))
	}
	key, err := trust.ReadPrivateKey(sign)
	if err != nil {
		return cli.Exit(2, fmt.Errorf("--sign: %w", err))
	}
	rcpts, err := bundle.ParseRecipients(to)
	if err != nil {
		return cli.Exit(2, fmt.Errorf("--to: %w", err))
	}
	recs, err := readRecords(from)
	if err != nil {
		return cli.Exit(2, err)
	}
	now := time.Now()
	if seq == 0 {
		seq = uint64(now.Unix())
	}
	var signed *bundle.Signed
	err = bundleAtomicWrite(out, func(w io.Writer) error {
		var err error
		signed, err = bundle.BuildChannel(w, recs, bundle.ChannelBuildOptions{Kind: kind, Channel: ch, Sequence: seq,
			IssuedAt: now, ExpiresAt: now.Add(expires), Authority: authority, Key: key, Recipients: rcpts})
		return err
	})
	if err != nil {
		return err
	}
	if err := bundleWriteJSON(bundle.HeaderFile(out), signed); err != nil {
		return err
	}
	h, _ := signed.Decode()
	if jsonOutput(cmd) {
		return cli.WriteJSONLine(cmd.OutOrStdout(), headerReport{Action: "built", File: out, Header: h})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "built %s\n  channel     %s/%s\n  sequence    %d\n  expires     %s\n  records     %d\n",
		out, h.Kind, h.Channel, h.Sequence, h.ExpiresAt.Format(time.RFC3339), h.Puts)
	return nil
}

// readRecords reads JSON Lines of channel records ("-" = stdin).
func readRecords(path string) ([]bundle.Record, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), bundle.DefaultMaxLineSize)
	var out []bundle.Record
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var rec bundle.Record
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return nil, fmt.Errorf("%s line %d: %v", path, n, err)
		}
		if err := rec.Validate(); err != nil {
			return nil, fmt.Errorf("%s line %d: %v", path, n, err)
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}
