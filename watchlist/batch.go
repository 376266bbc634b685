package watchlist

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Batch screening: many travellers in one request, as JSON Lines. It is
// what `checkpointctl watchlist search --batch` runs against a store file
// and what the daemon's admin socket serves (POST /v1/watchlist/screen), so
// a thousand travellers cost one process and one request, not a thousand.

// BatchQuery is one input line: a traveller (PersonQuery's fields) and an
// optional id that the result echoes.
type BatchQuery struct {
	ID string `json:"id,omitempty"`
	PersonQuery
}

// BatchResult is one output line. Hits are the HIT and POSSIBLE levels
// only; Error is set instead for a line that could not be screened (bad
// JSON, a query without a name). It is personal data: never log it.
type BatchResult struct {
	Line   int      `json:"line"`
	ID     string   `json:"id,omitempty"`
	Hits   []Hit    `json:"hits"`
	Error  string   `json:"error,omitempty"`
	Errors []string `json:"integrity_errors,omitempty"`
}

// BatchSummary counts a batch (no personal data).
type BatchSummary struct {
	Queries  int    `json:"queries"`
	Hit      int    `json:"hit"`      // queries with at least one HIT
	Possible int    `json:"possible"` // queries with POSSIBLE matches only
	Errors   int    `json:"errors"`   // lines that could not be screened
	Sequence uint64 `json:"sequence"` // the watchlist version screened against (of the last chunk)
}

// BatchOptions bound a batch.
type BatchOptions struct {
	// MaxLine bounds one input line (default 64 KiB); MaxQueries the
	// lines of a batch (default 1,000,000). Beyond them the batch stops
	// with ErrBadQuery after the results written so far.
	MaxLine    int
	MaxQueries int
	// Chunk is how many queries share one read transaction (default 256).
	Chunk int
}

// ScreenBatch reads JSON Lines of BatchQuery from r and writes one
// BatchResult per non-empty line to w, in order. Blank lines and lines
// starting with '#' are skipped. A bad line gets its error in its result
// and the batch goes on. Queries are screened in chunks, each against one
// installed version.
func (s *Store) ScreenBatch(ctx context.Context, r io.Reader, w io.Writer, opts BatchOptions) (BatchSummary, error) {
	if opts.MaxLine <= 0 {
		opts.MaxLine = 64 << 10
	}
	if opts.MaxQueries <= 0 {
		opts.MaxQueries = 1_000_000
	}
	if opts.Chunk <= 0 {
		opts.Chunk = 256
	}
	var sum BatchSummary
	br := bufio.NewReaderSize(r, 64<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	type pending struct {
		res BatchResult
		q   *PersonQuery
	}
	var chunk []pending
	flush := func() error {
		var qs []PersonQuery
		var idx []int
		for i := range chunk {
			if chunk[i].q != nil {
				qs = append(qs, *chunk[i].q)
				idx = append(idx, i)
			}
		}
		if len(qs) > 0 {
			err := s.ScreenPersons(ctx, qs, func(k int, hits []Hit, err error) error {
				res := &chunk[idx[k]].res
				res.Hits = hits
				if err != nil {
					var ie *IntegrityError
					if errors.As(err, &ie) || errors.Is(err, ErrIntegrity) {
						for _, e := range splitErrs(err) {
							res.Errors = append(res.Errors, e.Error())
						}
					} else {
						res.Error = err.Error()
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			sum.Sequence = s.Meta().Sequence
		}
		for i := range chunk {
			res := &chunk[i].res
			if res.Hits == nil {
				res.Hits = []Hit{}
			}
			switch {
			case res.Error != "":
				sum.Errors++
			case hasLevel(res.Hits, LevelHit):
				sum.Hit++
			case len(res.Hits) > 0:
				sum.Possible++
			}
			if err := enc.Encode(res); err != nil {
				return err
			}
		}
		chunk = chunk[:0]
		return nil
	}
	line := 0
	for {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		b, err := readLine(br, opts.MaxLine)
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			if ferr := flush(); ferr != nil {
				return sum, ferr
			}
			return sum, fmt.Errorf("%w: line %d: %v", ErrBadQuery, line, err)
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		if sum.Queries >= opts.MaxQueries {
			if ferr := flush(); ferr != nil {
				return sum, ferr
			}
			return sum, fmt.Errorf("%w: more than %d queries in one batch", ErrBadQuery, opts.MaxQueries)
		}
		sum.Queries++
		p := pending{res: BatchResult{Line: line}}
		var bq BatchQuery
		if err := strictUnmarshal(b, &bq); err != nil {
			p.res.Error = fmt.Sprintf("%v: %v", ErrBadQuery, err)
		} else {
			p.res.ID, p.q = bq.ID, &bq.PersonQuery
		}
		chunk = append(chunk, p)
		if len(chunk) == opts.Chunk {
			if err := flush(); err != nil {
				return sum, err
			}
		}
	}
	return sum, flush()
}

func hasLevel(hits []Hit, level string) bool {
	for _, h := range hits {
		if h.LevelOrHit() == level {
			return true
		}
	}
	return false
}

// errLineTooLong is returned by readLine for a line over the limit.
var errLineTooLong = errors.New("line too long")

// readLine reads one '\n'-terminated line of at most max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(out)+len(frag) > max+1 {
			return nil, errLineTooLong
		}
		out = append(out, frag...)
		switch {
		case err == nil:
			return out, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(out) > 0:
			return out, nil
		default:
			return nil, err
		}
	}
}
