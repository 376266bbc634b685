package bundle

import (
	"fmt"
	"io"
	"strings"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// Diff computes the delta from the snapshot prev to the snapshot produced
// by openNext (both sources of puts). It returns the changes (puts of new
// or changed records, then deletes) as a source for Build, and the state
// of next that Build needs for a delta. openNext is called twice so that
// neither snapshot is held in memory: only the digests of prev are.
func Diff(prev watchlist.ChangeSource, openNext func() (watchlist.ChangeSource, error)) (watchlist.ChangeSource, *State, error) {
	old := map[string][32]byte{}
	for {
		c, err := prev.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("bundle: diff: previous: %w", err)
		}
		if c.Op != watchlist.OpPut {
			return nil, nil, fmt.Errorf("bundle: diff: previous snapshot holds a %s", c.Op)
		}
		d, err := Digest(&c)
		if err != nil {
			return nil, nil, err
		}
		old[string(c.Kind)+"\x00"+c.ID] = d
	}
	next, err := openNext()
	if err != nil {
		return nil, nil, err
	}
	st := new(State)
	seen := map[string]bool{}
	for {
		c, err := next.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("bundle: diff: next: %w", err)
		}
		if c.Op != watchlist.OpPut {
			return nil, nil, fmt.Errorf("bundle: diff: next snapshot holds a %s", c.Op)
		}
		if err := st.Add(&c); err != nil {
			return nil, nil, err
		}
		seen[string(c.Kind)+"\x00"+c.ID] = true
	}
	var deletes []string
	for k := range old {
		if !seen[k] {
			deletes = append(deletes, k)
		}
	}
	next, err = openNext()
	if err != nil {
		return nil, nil, err
	}
	return &diffSource{next: next, old: old, deletes: deletes}, st, nil
}

type diffSource struct {
	next    watchlist.ChangeSource
	old     map[string][32]byte
	deletes []string
	done    bool
}

func (d *diffSource) Next() (watchlist.Change, error) {
	for !d.done {
		c, err := d.next.Next()
		if err == io.EOF {
			d.done = true
			break
		}
		if err != nil {
			return c, err
		}
		dg, err := Digest(&c)
		if err != nil {
			return c, err
		}
		if o, ok := d.old[string(c.Kind)+"\x00"+c.ID]; ok && o == dg {
			continue
		}
		return c, nil
	}
	if len(d.deletes) == 0 {
		return watchlist.Change{}, io.EOF
	}
	k := d.deletes[0]
	d.deletes = d.deletes[1:]
	kind, id, _ := strings.Cut(k, "\x00")
	return watchlist.Change{Op: watchlist.OpDelete, Kind: watchlist.Kind(kind), ID: id}, nil
}
