package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/diskstat"
)

func init() { rootCmd.AddCommand(newDiagCmd()) }

// diagJournalLines is how much of the daemon's journal goes in a bundle.
const diagJournalLines = 500

// diagJournalFields are the journal fields a bundle keeps: journald's own
// (trusted, set by journald or systemd), MESSAGE and slog's built-in keys
// as a journal handler would name them. Everything else is dropped, so a
// field added by mistake or by another program cannot carry personal data
// out of the box.
var diagJournalFields = map[string]bool{
	"__REALTIME_TIMESTAMP": true, "__MONOTONIC_TIMESTAMP": true, "_SOURCE_REALTIME_TIMESTAMP": true,
	"_BOOT_ID": true, "_PID": true, "_UID": true, "_GID": true, "_COMM": true, "_EXE": true,
	"_SYSTEMD_UNIT": true, "_SYSTEMD_INVOCATION_ID": true, "_TRANSPORT": true, "_STREAM_ID": true,
	"PRIORITY": true, "SYSLOG_IDENTIFIER": true, "SYSLOG_FACILITY": true, "SYSLOG_PID": true,
	"INVOCATION_ID": true, "MESSAGE_ID": true, "UNIT": true, "ERRNO": true,
	"CODE_FILE": true, "CODE_LINE": true, "CODE_FUNC": true,
	"MESSAGE": true,
	"LEVEL":   true, "MSG": true, "TIME": true, "SOURCE": true,
}

type diagOptions struct {
	configPath, socket, out, journalFile string
	sysfs, dev                           string
	noJournal                            bool
}

// diagFile is one member of the bundle.
type diagFile struct {
	name string
	data []byte
}

func newDiagCmd() *cobra.Command {
	var o diagOptions
	cmd := &cobra.Command{
		Use:   "diag --config FILE --out FILE.tar.gz",
		Short: "Write a diagnostics bundle for support, with no personal data",
		Long: "Collects into one .tar.gz: the daemon's status (from the admin socket when it runs), the config " +
			"with secrets redacted, versions (Go, this build, Debian packages of OpenCV and dlib), devices, " +
			"the audit log's verification (counts and head hash only, never entries), disk space and the " +
			"daemon's last journal lines reduced to journald's own fields and the message. The environment, " +
			"keys, accounts, watchlist, outbox and images are never read into it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.out == "" {
				return cli.Exit(exitStatusUsage, errors.New("--out FILE.tar.gz is required"))
			}
			files, notes := collectDiag(cmd.Context(), o, cmd.Flags().Changed("config"))
			now := time.Now().UTC()
			if err := atomicfile.Write(o.out, 0o600, func(w io.Writer) error { return writeDiagTar(w, now, files) }); err != nil {
				return fmt.Errorf("write %s: %w", o.out, err)
			}
			out := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				names := make([]string, len(files))
				for i, f := range files {
					names[i] = f.name
				}
				return cli.WriteJSONLine(out, map[string]any{"out": o.out, "files": names, "notes": notes})
			}
			fmt.Fprintf(out, "wrote %s (%d files)\n", o.out, len(files))
			for _, f := range files {
				fmt.Fprintf(out, "  %-16s %s\n", f.name, diskstat.Human(uint64(len(f.data))))
			}
			for _, n := range notes {
				fmt.Fprintf(out, "note: %s\n", n)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.configPath, "config", techDefaultConfig, "checkpointd's config")
	f.StringVar(&o.socket, "socket", "", "admin socket (default: <state_dir>/admin.sock)")
	f.StringVarP(&o.out, "out", "o", "", "bundle to write (.tar.gz)")
	f.StringVar(&o.journalFile, "journal-file", "", "read journal entries (journalctl -o json lines) from this file instead of running journalctl")
	f.BoolVar(&o.noJournal, "no-journal", false, "leave the daemon's journal out")
	f.StringVar(&o.sysfs, "sysfs", "/sys", "sysfs root for the device list")
	f.StringVar(&o.dev, "dev", "/dev", "device directory for the device list")
	return cmd
}

// collectDiag gathers the bundle's files. Nothing here fails the bundle:
// what cannot be read becomes a note, since a broken box is exactly when a
// bundle is wanted.
func collectDiag(ctx context.Context, o diagOptions, configSet bool) ([]diagFile, []string) {
	var files []diagFile
	var notes []string
	addJSON := func(name string, v any) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", name, err))
			return
		}
		files = append(files, diagFile{name, append(b, '\n')})
	}

	p, _ := resolveStatusPaths(o.configPath, o.socket, configSet)
	if p.cfgErr != nil {
		files = append(files, diagFile{"config-error.txt", []byte(p.cfgErr.Error() + "\n")})
		notes = append(notes, "config did not load: "+p.cfgErr.Error())
	} else if b, err := diagConfigYAML(p.cfg); err != nil {
		notes = append(notes, "config: "+err.Error())
	} else {
		files = append(files, diagFile{"config.yaml", b})
	}

	if p.socket != "" {
		body, err := statusFetch(ctx, p.socket)
		if err == nil {
			var compact bytes.Buffer
			if err = json.Indent(&compact, body, "", "  "); err == nil {
				files = append(files, diagFile{"status.json", compact.Bytes()})
			}
		}
		if err != nil {
			addJSON("status.json", map[string]any{"running": false, "socket": p.socket, "error": err.Error()})
			notes = append(notes, err.Error())
		}
	}

	addJSON("versions.json", diagVersions(ctx))
	addJSON("devices.json", listDevices(o.sysfs, o.dev))
	if a := statusAuditOf(p.auditLog); a != nil {
		// Only counts, hashes and the position of a break: Verify's own
		// message could quote a damaged line.
		if !a.OK {
			if a.BrokenAt > 0 {
				a.Error = fmt.Sprintf("chain broken at entry %d", a.BrokenAt)
			} else {
				a.Error = "log could not be read"
			}
		}
		addJSON("audit.json", a)
	}
	if p.stateDir != "" {
		if u, err := diskstat.Stat(p.stateDir); err == nil {
			addJSON("disk.json", u)
		} else {
			notes = append(notes, "disk: "+err.Error())
		}
	}

	if !o.noJournal {
		journal, err := diagJournal(ctx, o.journalFile)
		switch {
		case err != nil:
			notes = append(notes, "journal: "+err.Error())
		default:
			files = append(files, diagFile{"journal.jsonl", journal})
		}
	}

	var manifest strings.Builder
	fmt.Fprintf(&manifest, "Checkpoint diagnostics bundle\ncreated %s by checkpointctl %s\n\nfiles:\n", time.Now().UTC().Format(time.RFC3339), diagBuildVersion())
	for _, f := range files {
		fmt.Fprintf(&manifest, "  %s\n", f.name)
	}
	if len(notes) > 0 {
		manifest.WriteString("\nnotes:\n")
		for _, n := range notes {
			fmt.Fprintf(&manifest, "  %s\n", n)
		}
	}
	manifest.WriteString("\nNo personal data: no watchlist, outbox, audit entries, accounts, keys, images or environment.\n")
	files = append([]diagFile{{"MANIFEST.txt", []byte(manifest.String())}}, files...)
	return files, notes
}

// diagConfigYAML re-encodes the parsed config (so only known fields
// appear) with credentials in URLs and inline key material removed. Key
// specs (file:, credential:, env:) and paths stay: they say where secrets
// live, not what they are.
func diagConfigYAML(c *config.Config) ([]byte, error) {
	r := *c
	r.Hub.URL = diagRedactURL(r.Hub.URL)
	r.Camera.Device = diagRedactURL(r.Camera.Device)
	r.Watchlist.Key = diagRedactKeySpec(r.Watchlist.Key)
	r.Watchlist.Identity = diagRedactKeySpec(r.Watchlist.Identity)
	r.Outbox.Key = diagRedactKeySpec(r.Outbox.Key)
	b, err := yaml.Marshal(&r)
	if err != nil {
		return nil, err
	}
	return append([]byte("# checkpointd config as loaded (defaults filled), redacted for diagnostics\n"), b...), nil
}

// diagRedactURL drops user info and query from URLs; other strings (paths,
// pipelines) pass.
func diagRedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return s
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	return u.String()
}

// diagRedactKeySpec keeps provider specs and paths; anything else may be
// key material pasted inline.
func diagRedactKeySpec(s string) string {
	switch {
	case s == "", strings.HasPrefix(s, "file:"), strings.HasPrefix(s, "credential:"), strings.HasPrefix(s, "env:"), filepath.IsAbs(s):
		return s
	}
	return "REDACTED (not a file:, credential: or env: spec)"
}

func diagBuildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value[:min(12, len(s.Value))]
		}
	}
	return v
}

type diagVersionsReport struct {
	Go            string            `json:"go"`
	OS            string            `json:"os"`
	Arch          string            `json:"arch"`
	Kernel        string            `json:"kernel,omitempty"`
	Distribution  string            `json:"distribution,omitempty"`
	Checkpointctl map[string]string `json:"checkpointctl"`
	Modules       map[string]string `json:"modules,omitempty"`
	Packages      map[string]string `json:"packages,omitempty"`
	PackagesNote  string            `json:"packages_note,omitempty"`
}

func diagVersions(ctx context.Context) diagVersionsReport {
	v := diagVersionsReport{Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, Checkpointctl: map[string]string{}}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		v.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				v.Distribution = strings.Trim(rest, `"`)
			}
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.Checkpointctl["module"] = bi.Main.Path
		v.Checkpointctl["version"] = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.time", "vcs.modified", "CGO_ENABLED", "-tags":
				v.Checkpointctl[s.Key] = s.Value
			}
		}
		v.Modules = map[string]string{}
		for _, d := range bi.Deps {
			v.Modules[d.Path] = d.Version
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// dpkg-query exits 1 when a pattern matches nothing but still lists
	// the others, so its output is read whatever its status.
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Status}\n",
		"libopencv-core*", "libopencv-dev", "libdlib*", "libopenblas*", "socat").Output()
	if len(out) == 0 && err != nil {
		v.PackagesNote = "dpkg-query: " + err.Error()
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Split(l, "\t")
		if len(f) == 3 && f[2] == "installed" {
			if v.Packages == nil {
				v.Packages = map[string]string{}
			}
			v.Packages[f[0]] = f[1]
		}
	}
	return v
}

// diagJournal returns the daemon's recent journal lines, filtered.
func diagJournal(ctx context.Context, file string) ([]byte, error) {
	var src io.Reader
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		src = f
	} else {
		if _, err := exec.LookPath("journalctl"); err != nil {
			return nil, errors.New("journalctl not available")
		}
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "journalctl", "-u", "checkpointd", "-n", fmt.Sprint(diagJournalLines), "--no-pager", "-o", "json")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("journalctl: %v: %s", err, strings.TrimSpace(stderr.String()))
		}
		src = bytes.NewReader(out)
	}
	var buf bytes.Buffer
	if err := filterJournal(src, &buf, diagJournalLines); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// filterJournal copies the last max entries of journalctl -o json output,
// keeping only diagJournalFields. Lines that are not JSON objects are
// dropped, not copied.
func filterJournal(r io.Reader, w io.Writer, max int) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var kept [][]byte
	for sc.Scan() {
		var entry map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &entry); err != nil || entry == nil {
			continue
		}
		for k := range entry {
			if !diagJournalFields[k] {
				delete(entry, k)
			}
		}
		b, err := json.Marshal(entry)
		if err != nil {
			continue
		}
		kept = append(kept, b)
		if len(kept) > max {
			kept = kept[1:]
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	for _, b := range kept {
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// writeDiagTar writes files into a gzip-compressed tar under one folder.
func writeDiagTar(w io.Writer, now time.Time, files []diagFile) error {
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	dir := "checkpoint-diag-" + now.Format("20060102T150405Z") + "/"
	for _, f := range files {
		hdr := &tar.Header{Name: dir + f.name, Mode: 0o600, Size: int64(len(f.data)), ModTime: now, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}
