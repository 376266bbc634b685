package bundle

import "github.com/checkpoint-edge/checkpoint/watchlist"

// SignedBase is the version a signed bundle is checked against (rollback,
// watchlist id, delta base). It is the installed version when that came
// from a signed bundle. When an unsigned local import is installed, it is
// the last signed version that import replaced (watchlist.Store.SignedMeta;
// the zero Meta if none ever was), with Unsigned set to say that the
// installed records are not that version's: a delta cannot apply to them,
// only a full bundle newer than the signed sequence. So an unsigned import
// can neither roll the signed sequence back nor block later signed bundles.
func SignedBase(store Store) watchlist.Meta {
	cur := store.Meta()
	if !cur.IsUnsigned() {
		return cur
	}
	var base watchlist.Meta
	if s, ok := store.(interface{ SignedMeta() watchlist.Meta }); ok {
		base = s.SignedMeta()
	}
	base.Unsigned = true
	return base
}
