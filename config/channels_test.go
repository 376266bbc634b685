package config

import (
	"strings"
	"testing"
	"time"
)

func TestChannels(t *testing.T) {
	base := "version: 1\nunit: {id: u1}\nstate_dir: /s\nscanner: {port: /dev/x}\nweb: {accounts: /a}\n" +
		"watchlist: {key: 'file:/k', trust: /t, identity: 'file:/i'}\n"
	hub := "hub: {url: 'https://hq', ca: a, cert: b, key: c}\n"
	c, err := Parse([]byte(base + hub + "channels:\n  pull:\n    - {kind: prearrival, channel: LHR, poll_interval: 2m}\n    - {kind: trust, channel: icao}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Channels.Path != "/s/channels.db" || c.ChannelKey() != "file:/k" || len(c.Channels.Pull) != 2 ||
		c.Channels.Pull[0].PollInterval.D() != 2*time.Minute {
		t.Fatalf("channels %+v key %s", c.Channels, c.ChannelKey())
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"watchlist kind", hub + "channels: {pull: [{kind: watchlist, channel: x}]}\n", "channels.pull[0].kind"},
		{"bad channel", hub + "channels: {pull: [{kind: alerts, channel: '../x'}]}\n", "channels.pull[0].channel"},
		{"twice", hub + "channels: {pull: [{kind: alerts, channel: a}, {kind: alerts, channel: a}]}\n", "listed twice"},
		{"no hub", "channels: {pull: [{kind: alerts, channel: a}]}\n", "needs hub.url"},
		{"unknown key", "channels: {pul: []}\n", "field pul not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(base + tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
