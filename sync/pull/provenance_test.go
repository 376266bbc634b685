package pull

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/backoff/backofftest"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// TestPullAfterUnsignedImport: issue 17's third finding, from the network
// side. After a local unsigned import replaced the signed list (audited,
// with a reason), the puller still plans from the signed sequence: it does
// not try a delta on the local records, and the next full bundle installs,
// whatever local sequence the import took. Before, the import's sequence
// (up to 2^64-1) made every later bundle a "rollback".
func TestPullAfterUnsignedImport(t *testing.T) {
	h, q := newHub(t), newHQ(t)
	v1, v2 := docs(200, "a"), docs(210, "a")
	q.publish(t, h, 1, 0, v1, nil)
	store := openStore(t)
	p := newPuller(t, h, h.srv.Listener.Addr().String(), store, q, backofftest.New(time.Now()))
	ctx := context.Background()
	if _, err := p.Once(ctx); err != nil {
		t.Fatal(err)
	}
	local := watchlist.Meta{WatchlistID: "plain-import", Sequence: math.MaxUint64, IssuedAt: time.Now()}
	if err := store.ImportUnsigned(ctx, local, &watchlist.SliceSource{Changes: docs(1, "local")}, true); err == nil {
		t.Fatal("an unsigned import took sequence 2^64-1")
	}
	local.Sequence = watchlist.MaxSequence
	if err := store.ImportUnsigned(ctx, local, &watchlist.SliceSource{Changes: docs(1, "local")}, true); err != nil {
		t.Fatal(err)
	}
	// A delta 1→2 and the full 2 are published; the delta cannot apply to
	// the local records, so the full one is installed.
	src, st, err := bundle.Diff(&watchlist.SliceSource{Changes: v1}, func() (watchlist.ChangeSource, error) {
		return &watchlist.SliceSource{Changes: v2}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var delta []watchlist.Change
	for c, err := src.Next(); err == nil; c, err = src.Next() {
		delta = append(delta, c)
	}
	q.publish(t, h, 2, 1, delta, st)
	q.publish(t, h, 2, 0, v2, nil)
	res, err := p.Once(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m := store.Meta(); m.Sequence != 2 || m.IsUnsigned() || m.StateHash != stateOf(t, v2).Hash.String() || len(res.Installed) != 1 || res.FellBack {
		t.Fatalf("after the pull: %+v, result %+v", m, res)
	}
}
