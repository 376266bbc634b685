package bundle_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// Headquarters builds a signed bundle for a unit; the unit installs it.
func Example() {
	dir, _ := os.MkdirTemp("", "bundle-example")
	defer os.RemoveAll(dir)
	now := time.Now()

	// Headquarters: a root key (1 of 1 here), a signing key, the unit's
	// age recipient.
	rootKey, _ := trust.GenerateKey()
	signer, _ := trust.GenerateKey()
	unit, _ := age.GenerateX25519Identity()
	root, _ := trust.New([]ed25519.PublicKey{rootKey.Public().(ed25519.PublicKey)}, 1, now)
	root.AddSigner("hq", signer.Public().(ed25519.PublicKey), now.Add(-time.Hour), now.AddDate(1, 0, 0))
	trustFile, _ := trust.Sign(root, rootKey)

	changes := []watchlist.Change{{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: "D1",
		Document: &watchlist.DocumentAlert{ID: "D1", IssuingState: "UTO", Number: "L898902C3", Status: "stolen",
			Source: "SLTD", Action: watchlist.ActionAlertOnly}}}
	var file bytes.Buffer
	_, err := bundle.Build(context.Background(), &file, &watchlist.SliceSource{Changes: changes}, bundle.BuildOptions{
		WatchlistID: "national", Sequence: 1, IssuedAt: now, ExpiresAt: now.Add(48 * time.Hour),
		Key: signer, Recipients: []age.Recipient{unit.Recipient()}, TempDir: dir,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	path := filepath.Join(dir, "full-1.cpwl")
	os.WriteFile(path, file.Bytes(), 0o600)

	// The unit: its pinned trust file, its identity, its store.
	pinned, _ := trust.Parse(trustFile)
	seal.GenerateKeyFile(filepath.Join(dir, "kek"))
	store, _ := watchlist.Open(filepath.Join(dir, "watchlist.db"), seal.FileKey{Path: filepath.Join(dir, "kek")}, watchlist.Options{})
	defer store.Close()
	v, err := bundle.Install(context.Background(), path, store, bundle.Options{Trust: pinned, Identities: []age.Identity{unit}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("installed sequence", v.Header.Sequence, "documents", store.Meta().Documents)

	// Installing it again is a replay.
	_, err = bundle.Install(context.Background(), path, store, bundle.Options{Trust: pinned, Identities: []age.Identity{unit}})
	fmt.Println(err != nil)
	// Output:
	// installed sequence 1 documents 1
	// true
}
