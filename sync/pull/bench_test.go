package pull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkResumableDownload fetches a 100 MB file (20 MB with -short)
// over mutual TLS through a link cut about 50 times, and reports the bytes
// transferred against the file size and the requests made.
func BenchmarkResumableDownload(b *testing.B) {
	size := 100 << 20
	if testing.Short() {
		size = 20 << 20
	}
	h := newHub(b)
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(8, 9))
	for i := 0; i+8 <= len(data); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	os.WriteFile(filepath.Join(h.dir, "big.cpwl"), data, 0o644)
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	data = nil

	proxy := newCutProxy(b, h.srv.Listener.Addr().String(), int64(size/51))
	var st Stats
	b.SetBytes(int64(size))
	b.ResetTimer()
	for range b.N {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: h.clientTL}}
		dst := filepath.Join(b.TempDir(), "big.cpwl")
		var err error
		st, err = Download(context.Background(), client, "https://"+proxy.addr()+"/v1/bundles/big.cpwl", dst,
			DownloadOptions{Size: int64(size), SHA256: good, Backoff: Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}})
		if err != nil {
			b.Fatal(err)
		}
		client.CloseIdleConnections()
	}
	b.ReportMetric(float64(st.Requests), "requests")
	b.ReportMetric(float64(st.Resumes), "resumes")
	b.ReportMetric(float64(st.Bytes)/float64(st.Size), "transferred/size")
	b.ReportMetric(float64(proxy.cuts.Load())/float64(b.N), "cuts")
}
