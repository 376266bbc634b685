package demo

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/config"
)

func TestRenderConfig(t *testing.T) {
	tests := []struct {
		name, dir string
		hold      time.Duration
		window    time.Duration
	}{
		{"default hold", "/srv/demo", 6 * time.Second, 2 * time.Second},
		{"short hold", "/srv/demo", 3 * time.Second, time.Second},
		{"path with spaces and colons", "/home/o'neil/my demo: #1", 6 * time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PathsOf(tt.dir)
			o := &Options{ModelsDir: "/m", Landmarks: "/l.dat", Model: tt.dir + "/m/mobilefacenet.json", WebListen: "127.0.0.1:8081", HubListen: "127.0.0.1:8444",
				FPS: 12.5, Workers: 2, Hold: tt.hold}
			b, err := renderConfig(p, o, 0.21)
			if err != nil {
				t.Fatal(err)
			}
			c, err := config.Parse(b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"unit", c.Unit.ID, UnitID},
				{"state", c.StateDir, p.State},
				{"watchlist path", c.Watchlist.Path, filepath.Join(p.State, "watchlist.db")},
				{"scanner", c.Scanner.Port, p.ScannerLink},
				{"framing", c.Scanner.Framing, "lines"},
				{"camera", c.Camera.Device, p.Video},
				{"loop", c.Camera.Loop, true},
				{"fps", c.Camera.FPS, 12.5},
				{"window", c.Vision.CaptureWindow.D(), tt.window},
				{"models", c.Vision.ModelsDir, "/m"},
				{"embedder", c.Vision.Embedder, "onnx"},
				{"face model", c.Vision.Model, tt.dir + "/m/mobilefacenet.json"},
				{"watchlist key", c.Watchlist.Key, "file:" + p.WatchlistKEK},
				{"identity", c.Watchlist.Identity, "file:" + p.Identity},
				{"trust", c.Watchlist.Trust, p.Trust},
				{"face distance", c.Policy.FaceSearchDistance, float32(0.21)},
				{"outbox key", c.Outbox.Key, "file:" + p.OutboxKEK},
				{"hub", c.Hub.URL, "https://127.0.0.1:8444"},
				{"hub key", c.Hub.Key, p.UnitKey},
				{"web", c.Web.Listen, "127.0.0.1:8081"},
				{"accounts", c.Web.Accounts, p.Accounts},
				{"sign-in socket", c.Web.SignInSocket, p.SignInSocket},
			}
			for _, ck := range checks {
				if ck.got != ck.want {
					t.Errorf("%s = %v, want %v", ck.what, ck.got, ck.want)
				}
			}
		})
	}
}
