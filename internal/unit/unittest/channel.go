package unittest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
)

// PublishChannel builds a channel bundle of recs at sequence seq, valid for
// valid, signed by the fixture's authority key and encrypted to the unit,
// and publishes it on the hub under <kind>/<channel>/.
func (f *Fixture) PublishChannel(t testing.TB, kind, ch string, seq uint64, valid time.Duration, recs []bundle.Record) {
	t.Helper()
	keys := filepath.Join(f.Dir, "keys")
	signer, err := trust.ReadPrivateKey(filepath.Join(keys, "signing.key"))
	must(t, err)
	b, err := os.ReadFile(filepath.Join(keys, "unit.age"))
	must(t, err)
	id, err := age.ParseX25519Identity(strings.TrimSpace(string(b)))
	must(t, err)
	now := time.Now()
	var buf bytes.Buffer
	signed, err := bundle.BuildChannel(&buf, recs, bundle.ChannelBuildOptions{Kind: kind, Channel: ch, Sequence: seq,
		IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(valid), Authority: "test-hq", Key: signer,
		Recipients: []age.Recipient{id.Recipient()}})
	must(t, err)
	path := filepath.Join(t.TempDir(), "channel-bundle")
	must(t, os.WriteFile(path, buf.Bytes(), 0o600))
	_, err = bundle.Publish(f.HubBundles, path, signed, now, 2)
	must(t, err)
}
