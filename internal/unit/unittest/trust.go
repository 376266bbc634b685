package unittest

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// writeTrust makes a one-of-one root of trust with one bundle signer and the
// unit's age identity, so the unit's puller can start.
func (f *Fixture) writeTrust(t testing.TB, keys string, cfg *config.Config) {
	t.Helper()
	rootKey, err := trust.GenerateKey()
	must(t, err)
	signer, err := trust.GenerateKey()
	must(t, err)
	now := time.Now()
	root, err := trust.New([]ed25519.PublicKey{rootKey.Public().(ed25519.PublicKey)}, 1, now)
	must(t, err)
	must(t, root.AddSigner("hq", signer.Public().(ed25519.PublicKey), now.Add(-time.Hour), now.Add(365*24*time.Hour)))
	file, err := trust.Sign(root, rootKey)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(keys, "trust.json"), file, 0o644))
	must(t, trust.WritePrivateKey(filepath.Join(keys, "signing.key"), signer))
	id, err := age.GenerateX25519Identity()
	must(t, err)
	must(t, os.WriteFile(filepath.Join(keys, "unit.age"), []byte(id.String()+"\n"), 0o600))
	cfg.Watchlist.Trust = filepath.Join(keys, "trust.json")
	cfg.Watchlist.Identity = "file:" + filepath.Join(keys, "unit.age")
}

// Publish builds a full bundle of changes at sequence seq, signed by the
// fixture's authority key and encrypted to the unit, and publishes it on
// the hub.
func (f *Fixture) Publish(t testing.TB, seq uint64, changes []watchlist.Change) {
	t.Helper()
	keys := filepath.Join(f.Dir, "keys")
	signer, err := trust.ReadPrivateKey(filepath.Join(keys, "signing.key"))
	must(t, err)
	b, err := os.ReadFile(filepath.Join(keys, "unit.age"))
	must(t, err)
	id, err := age.ParseX25519Identity(strings.TrimSpace(string(b)))
	must(t, err)
	path := filepath.Join(t.TempDir(), "bundle")
	out, err := os.Create(path)
	must(t, err)
	now := time.Now()
	signed, err := bundle.Build(context.Background(), out, &watchlist.SliceSource{Changes: changes}, bundle.BuildOptions{
		WatchlistID: "national", Sequence: seq, IssuedAt: now, ExpiresAt: now.Add(48 * time.Hour), Authority: "test-hq",
		FaceModelID: f.ModelID, Key: signer, Recipients: []age.Recipient{id.Recipient()}, TempDir: t.TempDir()})
	must(t, err)
	must(t, out.Close())
	_, err = bundle.Publish(f.HubBundles, path, signed, now, 0)
	must(t, err)
}
