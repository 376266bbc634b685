// Package buildinfo says which build of Checkpoint is running: the version
// (from `git describe` through -ldflags, else the module version), the
// commit and its time (from the Go toolchain's VCS stamp), the Go version,
// and the versions of the C/C++ libraries linked in (OpenCV, dlib), which
// the packages that link them register at init. It imports nothing of
// Checkpoint's, so every binary and package may use it.
package buildinfo

import (
	"maps"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
)

// version is set at link time: -X github.com/checkpoint-edge/checkpoint/internal/buildinfo.version=…
var version string

// date is set at link time to the build date (RFC 3339): -X …/buildinfo.date=…
var date string

// commit is set at link time (git rev-parse HEAD) for builds where the
// toolchain's VCS stamp is off (GOFLAGS=-buildvcs=false).
var commit string

var (
	mu   sync.Mutex
	libs = map[string]string{}
)

// RegisterLibrary records the version of a linked C/C++ library (e.g.
// "opencv", "dlib"). Packages that link one call it from init.
func RegisterLibrary(name, version string) {
	mu.Lock()
	defer mu.Unlock()
	libs[name] = version
}

// Info describes the running build.
type Info struct {
	Version   string            `json:"version"`
	Commit    string            `json:"commit,omitempty"`
	CommitAt  string            `json:"commit_time,omitempty"`
	Modified  bool              `json:"modified,omitempty"` // built from a tree with uncommitted changes
	BuiltAt   string            `json:"build_date,omitempty"`
	Go        string            `json:"go"`
	Module    string            `json:"module"`
	Platform  string            `json:"platform"`
	Libraries map[string]string `json:"libraries,omitempty"`
}

// Get returns the build information.
func Get() Info {
	in := Info{Version: version, BuiltAt: date, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		in.Module = bi.Main.Path
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit = s.Value
			case "vcs.time":
				in.CommitAt = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if in.Commit == "" {
		in.Commit = commit
	}
	if in.Version == "" {
		in.Version = "dev"
	}
	mu.Lock()
	if len(libs) > 0 {
		in.Libraries = maps.Clone(libs)
	}
	mu.Unlock()
	return in
}

// String is the one line `--version` prints, e.g.
// "checkpointd 1.4.0 (commit 1a2b3c4d5e6f, 2026-12-06T10:00:00Z) go1.26.8 linux/amd64 dlib 19.24.0 opencv 4.6.0".
func (in Info) String() string {
	var b strings.Builder
	b.WriteString(in.Version)
	if in.Commit != "" {
		c := in.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		b.WriteString(" (commit " + c)
		if in.Modified {
			b.WriteString("+changes")
		}
		if in.CommitAt != "" {
			b.WriteString(", " + in.CommitAt)
		}
		b.WriteString(")")
	}
	if in.BuiltAt != "" {
		b.WriteString(" built " + in.BuiltAt)
	}
	b.WriteString(" " + in.Go + " " + in.Platform)
	for _, k := range slices.Sorted(maps.Keys(in.Libraries)) {
		b.WriteString(" " + k + " " + in.Libraries[k])
	}
	return b.String()
}
