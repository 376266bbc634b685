package config

import (
	"strings"
	"testing"
)

// TestHubReplicas: hub.urls and hub.bundle_urls are https, and need
// hub.url.
func TestHubReplicas(t *testing.T) {
	base := "version: 1\nunit: {id: u1}\nstate_dir: /s\nscanner: {port: /dev/x}\nweb: {accounts: /a}\n" +
		"watchlist: {trust: /t, identity: file:/i}\n"
	hub := "hub: {url: https://a:8443, ca: /ca, cert: /c, key: /k, "
	for _, tc := range []struct {
		name, yaml, err string
	}{
		{"replicas", hub + "urls: [https://b:8443, https://c:8443], bundle_urls: [https://s3:9000/b/v1/bundles/]}\n", ""},
		{"plain http replica", hub + "urls: [http://b:8443]}\n", "hub.urls: entry 1"},
		{"plain http bundles", hub + "bundle_urls: [http://s3/]}\n", "hub.urls: entry 1"},
		{"replicas without url", "hub: {urls: [https://b:8443]}\n", "hub.url: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(base + tc.yaml))
			if tc.err == "" {
				if err != nil || len(c.Hub.URLs) != 2 || len(c.Hub.BundleURLs) != 1 {
					t.Fatalf("%+v %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}
