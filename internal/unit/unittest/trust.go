package unittest

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
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
