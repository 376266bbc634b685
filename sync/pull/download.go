package pull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/backoff"
)

func randFloat() float64 { return rand.Float64() }

// DownloadOptions tune Download.
type DownloadOptions struct {
	// Size and SHA256 are what the index announces; the result must match.
	Size   int64
	SHA256 string
	// RateLimit caps the transfer in bytes per second (0 = unlimited).
	RateLimit int64
	// MaxAttempts is how many consecutive attempts without progress are
	// made before ErrGaveUp (0 = 8).
	MaxAttempts int
	// Backoff spaces the attempts (zero = 1 s to 2 min).
	Backoff Backoff
	// StallTimeout aborts a response that delivers no byte for this long
	// (0 = 60 s), so a dead link is noticed without TCP keep-alives.
	StallTimeout time.Duration
	Clock        Clock
	Logger       *slog.Logger
}

// Stats describe one download.
type Stats struct {
	Size int64 `json:"size"`
	// Requests counts HTTP requests; Resumes those that continued a
	// partial file (206); Restarts those that had to start over.
	Requests int `json:"requests"`
	Resumes  int `json:"resumes"`
	Restarts int `json:"restarts"`
	// Bytes is every body byte received, including any discarded on a
	// restart: Bytes - Size is what the link cost in re-downloads.
	Bytes int64 `json:"bytes"`
	// Failures counts attempts that ended in an error.
	Failures int `json:"failures"`
}

// Download fetches url into dst, resuming a previous dst+".part". The
// part file's ETag is kept in dst+".part.etag" and sent in If-Range, so a
// file replaced on the server is fetched from the start rather than
// spliced. dst appears (atomically) only once size and hash match.
func Download(ctx context.Context, client *http.Client, url, dst string, o DownloadOptions) (Stats, error) {
	st := Stats{Size: o.Size}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Backoff.Min <= 0 {
		o.Backoff.Min = time.Second
	}
	if o.Backoff.Max <= 0 {
		o.Backoff.Max = 2 * time.Minute
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 60 * time.Second
	}
	if o.Clock == nil {
		o.Clock = backoff.SystemClock{}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Size <= 0 || len(o.SHA256) != 64 {
		return st, fmt.Errorf("pull: download %s: size and sha256 are required", url)
	}
	part, etagPath := dst+".part", dst+".part.etag"
	f, err := os.OpenFile(part, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return st, fmt.Errorf("pull: %w", err)
	}
	defer f.Close()

	failed := 0
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		before := st.Bytes
		done, err := fetchOnce(ctx, client, url, f, etagPath, &o, &st)
		if done {
			break
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		if errors.Is(err, ErrNotFound) {
			return st, err
		}
		st.Failures++
		if st.Bytes > before {
			failed = 0 // progress: the link works, only drops
		} else {
			failed++
		}
		if failed >= o.MaxAttempts {
			return st, fmt.Errorf("%w: %s after %d attempts: %w", ErrGaveUp, url, failed, err)
		}
		d := o.Backoff.Delay(failed)
		if failed == 0 {
			d /= 4 // the link just worked: come back quickly
		}
		log.Debug("download interrupted; resuming", "url", url, "have", st.Bytes, "err", err, "retry_in", d)
		if err := sleep(ctx, o.Clock, d); err != nil {
			return st, err
		}
	}

	// Check the whole file against the index before it takes its name.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return st, fmt.Errorf("pull: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return st, fmt.Errorf("pull: %w", err)
	}
	if n != o.Size || hex.EncodeToString(h.Sum(nil)) != o.SHA256 {
		f.Close()
		os.Remove(part)
		os.Remove(etagPath)
		return st, fmt.Errorf("%w: %s: %d bytes", ErrChecksum, url, n)
	}
	if err := f.Sync(); err != nil {
		return st, fmt.Errorf("pull: %w", err)
	}
	f.Close()
	if err := os.Rename(part, dst); err != nil {
		return st, fmt.Errorf("pull: %w", err)
	}
	os.Remove(etagPath)
	return st, nil
}

// fetchOnce makes one request and appends what arrives to f. done means
// the part file is complete.
func fetchOnce(ctx context.Context, client *http.Client, url string, f *os.File, etagPath string, o *DownloadOptions, st *Stats) (done bool, err error) {
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return false, fmt.Errorf("pull: %w", err)
	}
	etag := ""
	if b, err := os.ReadFile(etagPath); err == nil {
		etag = strings.TrimSpace(string(b))
	}
	if have > o.Size || (have > 0 && etag == "") {
		// Larger than announced, or of unknown origin: start over.
		if err := truncate(f); err != nil {
			return false, err
		}
		have = 0
	}
	if have == o.Size {
		return true, nil
	}

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return false, fmt.Errorf("pull: %w", err)
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
		req.Header.Set("If-Range", etag)
	}
	st.Requests++
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		if have > 0 {
			st.Restarts++
		}
		if err := truncate(f); err != nil {
			return false, err
		}
		if err := saveETag(etagPath, resp.Header.Get("ETag")); err != nil {
			return false, err
		}
	case http.StatusPartialContent:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			// Not the range asked for: never splice, start over.
			truncate(f)
			os.Remove(etagPath)
			return false, fmt.Errorf("%w: 206 with Content-Range %q for offset %d", ErrHTTP, resp.Header.Get("Content-Range"), have)
		}
		st.Resumes++
	case http.StatusRequestedRangeNotSatisfiable:
		truncate(f)
		os.Remove(etagPath)
		return false, fmt.Errorf("%w: 416 at offset %d", ErrHTTP, have)
	case http.StatusNotFound:
		return false, fmt.Errorf("%w: %s", ErrNotFound, url)
	default:
		return false, fmt.Errorf("%w: %s: %s", ErrHTTP, url, resp.Status)
	}

	// A stalled body cancels the request; every byte re-arms the timer.
	stall := time.AfterFunc(o.StallTimeout, cancel)
	defer stall.Stop()
	lim := newLimiter(o.RateLimit, o.Clock)
	buf := make([]byte, 32<<10)
	if o.RateLimit > 0 {
		buf = buf[:max(1024, min(int64(len(buf)), o.RateLimit/20))]
	}
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			stall.Reset(o.StallTimeout)
			if _, err := f.Write(buf[:n]); err != nil {
				return false, fmt.Errorf("pull: %w", err)
			}
			st.Bytes += int64(n)
			if err := lim.wait(ctx, n); err != nil {
				return false, err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return false, rerr
		}
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return false, fmt.Errorf("pull: %w", err)
	}
	return size == o.Size, nil
}

func truncate(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

func saveETag(path, etag string) error {
	// Only a strong validator may be used in If-Range.
	if etag == "" || strings.HasPrefix(etag, "W/") {
		os.Remove(path)
		return nil
	}
	return atomicfile.WriteFile(path, []byte(etag+"\n"), 0o600)
}

// contentRangeStart parses "bytes START-END/SIZE".
func contentRangeStart(v string) (int64, bool) {
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, false
	}
	s, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// limiter keeps the average rate of one response at or below rate.
type limiter struct {
	rate  int64
	clock Clock
	start time.Time
	n     int64
}

func newLimiter(rate int64, c Clock) *limiter {
	return &limiter{rate: rate, clock: c, start: c.Now()}
}

func (l *limiter) wait(ctx context.Context, n int) error {
	if l.rate <= 0 {
		return nil
	}
	l.n += int64(n)
	due := l.start.Add(time.Duration(float64(l.n) / float64(l.rate) * float64(time.Second)))
	return sleep(ctx, l.clock, due.Sub(l.clock.Now()))
}
