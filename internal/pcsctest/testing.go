package pcsctest

import (
	"errors"
	"os"
	"testing"
)

// StartTB starts a private pcscd for a test or benchmark and stops it in
// tb.Cleanup. Missing packages skip the test, or fail it when the CI
// environment variable is set; any other start failure fails the test.
func StartTB(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Start(opts)
	if err != nil {
		if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") == "" {
			tb.Skipf("%v", err)
		}
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() && opts.Debug {
			tb.Logf("pcscd log:\n%s", s.Log())
		}
		if err := s.Stop(); err != nil {
			tb.Errorf("%v", err)
		}
	})
	return s
}
