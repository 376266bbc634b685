package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestInfo(t *testing.T) {
	RegisterLibrary("dlib", "19.24.0")
	RegisterLibrary("opencv", "4.6.0")
	in := Get()
	if in.Version == "" || in.Go != runtime.Version() || in.Libraries["dlib"] != "19.24.0" {
		t.Fatalf("%+v", in)
	}
	s := in.String()
	// Libraries in a stable order, after the Go version.
	if !strings.Contains(s, runtime.Version()) || !strings.HasSuffix(s, "dlib 19.24.0 opencv 4.6.0") {
		t.Fatalf("%q", s)
	}
	in = Info{Version: "1.2.3", Commit: "0123456789abcdef0123", Modified: true, CommitAt: "2026-12-06T10:00:00Z", Go: "go1.26.8", Platform: "linux/amd64"}
	if got, want := in.String(), "1.2.3 (commit 0123456789ab+changes, 2026-12-06T10:00:00Z) go1.26.8 linux/amd64"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}
