package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleConfigs(t *testing.T) {
	files, _ := filepath.Glob("../configs/*.yaml")
	if len(files) < 2 {
		t.Fatalf("example configs missing: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if c.Watchlist.Path == "" || c.Outbox.Path == "" || c.Audit.Path == "" {
				t.Fatalf("state paths not derived: %+v", c)
			}
		})
	}
}

func TestDefaultsAndDurations(t *testing.T) {
	c, err := Parse([]byte("version: 1\nunit: {id: u1}\nstate_dir: /s\nscanner: {port: /dev/x}\nweb: {accounts: /a}\nwatchlist: {max_age: 36h}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Watchlist.MaxAge.D() != 36*time.Hour || c.Vision.CaptureWindow.D() != 2*time.Second {
		t.Fatalf("durations: %v %v", c.Watchlist.MaxAge.D(), c.Vision.CaptureWindow.D())
	}
	if c.Watchlist.Path != "/s/watchlist.db" || c.Gate.Socket != "/s/gate.sock" {
		t.Fatalf("paths: %q %q", c.Watchlist.Path, c.Gate.Socket)
	}
	if c.Officer.Language != "en" || !c.Officer.Sound || len(c.Officer.Discreet.Actions) != 1 || c.Officer.Discreet.Actions[0] != "discreet_check" {
		t.Fatalf("officer defaults: %+v", c.Officer)
	}
	c, err = Parse([]byte("version: 1\nunit: {id: u1}\nstate_dir: /s\nscanner: {port: /dev/x}\nweb: {accounts: /a}\n" +
		"officer: {language: ar, sound: false, discreet: {categories: [foreign_terrorist_fighter, person_of_interest]}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Officer.Language != "ar" || c.Officer.Sound || len(c.Officer.Discreet.Categories) != 2 || len(c.Officer.Discreet.Actions) != 1 {
		t.Fatalf("officer section: %+v", c.Officer)
	}
}

func TestErrors(t *testing.T) {
	base := "version: 1\nunit: {id: u1}\nstate_dir: /s\nscanner: {port: /dev/x}\nweb: {accounts: /a}\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", base + "scaner: {}\n", "field scaner not found"},
		{"nested unknown key", "version: 1\nunit: {id: u1, mdoe: desk}\n", "field mdoe not found"},
		{"wrong version", "version: 2\n", "version 2 is not supported"},
		{"no version", "unit: {id: u1}\n", "version 0 is not supported"},
		{"bad duration", base + "watchlist: {max_age: two days}\n", "not a duration"},
		{"bad framing", "version: 1\nunit: {id: u1}\nstate_dir: /s\nscanner: {port: /dev/x, framing: morse}\nweb: {accounts: /a}\n", "scanner.framing"},
		{"duplicate key", base + "scanner: {port: /dev/y}\n", "already defined"},
		{"public listen without tls", "version: 1\nunit: {id: u1}\nstate_dir: /s\nscanner: {port: /dev/x}\nweb: {listen: '0.0.0.0:8080', accounts: /a}\n", "reachable from other hosts"},
		{"sign-in socket without page", "version: 1\nunit: {id: u1}\nstate_dir: /s\nscanner: {port: /dev/x}\nweb: {listen: '', signin_socket: /run/x.sock}\n", "web.signin_socket"},
		{"tcp gate without token", base + "gate: {listen: '127.0.0.1:9000'}\n", "gate.token_file"},
		{"http hub", base + "hub: {url: 'http://hq', ca: a, cert: b, key: c}\n", "must be https"},
		{"missing id", "version: 1\nstate_dir: /s\nscanner: {port: /dev/x}\nweb: {accounts: /a}\n", "unit.id"},
		{"not yaml", "version: [\n", "not valid YAML"},
		{"officer language", base + "officer: {language: de}\n", "officer.language"},
		{"discreet action", base + "officer: {discreet: {actions: [shout]}}\n", "officer.discreet.actions"},
		{"discreet category", base + "officer: {discreet: {categories: ['Foreign Terrorist']}}\n", "officer.discreet.categories"},
		{"officer unknown key", base + "officer: {sound: true, volume: 11}\n", "field volume not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestSeveralProblemsAtOnce(t *testing.T) {
	_, err := Parse([]byte("version: 1\nunit: {mode: kiosk}\nscanner: {framing: morse}\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"unit.id", "unit.mode", "state_dir", "scanner.framing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.yaml")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("err = %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
