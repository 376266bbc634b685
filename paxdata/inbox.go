package paxdata

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// InboxFile is one file of an inbox directory, ready to screen.
type InboxFile struct {
	Name string
	Path string
	Size int64
	// Data is the file's content; nil when TooLarge.
	Data     []byte
	TooLarge bool
}

// ScanInbox calls handle for every complete regular file in dir: hidden
// files (a sender's temporary name) and files changed in the last two
// seconds (still being written) wait for a later scan. handle returns
// whether the file is done (then it is deleted: its content is kept
// encrypted by whoever screened it). Data is wiped after handle returns.
func ScanInbox(ctx context.Context, dir string, now time.Time, maxBytes int64, handle func(f InboxFile) (done bool)) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, de := range ents {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name := de.Name()
		if strings.HasPrefix(name, ".") || !de.Type().IsRegular() {
			continue
		}
		st, err := de.Info()
		if err != nil || now.Sub(st.ModTime()) < 2*time.Second {
			continue
		}
		f := InboxFile{Name: name, Path: filepath.Join(dir, name), Size: st.Size(), TooLarge: st.Size() > maxBytes}
		if !f.TooLarge {
			if f.Data, err = os.ReadFile(f.Path); err != nil {
				continue
			}
		}
		done := handle(f)
		clear(f.Data)
		if done {
			os.Remove(f.Path)
		}
	}
	return nil
}

// Source names where a file came from in logs and audit entries without
// its name (airlines name files after flights, sometimes after bookings):
// how it came ("inbox", "cli") and the start of its content's SHA-256, by
// which an operator finds the file.
func Source(how string, data []byte) string {
	sum := sha256.Sum256(data)
	return how + ":sha256:" + hex.EncodeToString(sum[:6])
}
