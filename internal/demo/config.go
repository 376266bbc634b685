package demo

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"text/template"
	"time"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
)

// configTemplate is the demo's documented checkpointd.yaml.
//
//go:embed checkpointd.yaml.tmpl
var configTemplate string

var configTmpl = template.Must(template.New("checkpointd.yaml").Funcs(template.FuncMap{
	// q quotes a string for YAML (a JSON string is a YAML scalar), so paths
	// with spaces or colons stay one value.
	"q": func(s string) (string, error) {
		b, err := json.Marshal(s)
		return string(b), err
	},
}).Option("missingkey=error").Parse(configTemplate))

// configValues fill the template.
type configValues struct {
	P                    Paths
	UnitID, WatchlistID  string
	ModelsDir, Landmarks string
	Model                string
	WebListen, HubListen string
	FPS                  float64
	Workers              int
	CaptureWindow        time.Duration
	FaceDistance         float32
}

// captureWindow is the face capture after a document is read: at most 2 s,
// and short enough to end while the traveller is still on camera.
func captureWindow(hold time.Duration) time.Duration { return min(2*time.Second, hold/3) }

// renderConfig is the unit's configuration for a prepared directory.
func renderConfig(p Paths, o *Options, faceDistance float32) ([]byte, error) {
	var b bytes.Buffer
	err := configTmpl.Execute(&b, configValues{P: p, UnitID: UnitID, WatchlistID: WatchlistID, ModelsDir: o.ModelsDir,
		Landmarks: o.Landmarks, Model: o.Model, WebListen: o.WebListen, HubListen: o.HubListen, FPS: o.FPS, Workers: o.Workers,
		CaptureWindow: captureWindow(o.Hold), FaceDistance: faceDistance})
	return b.Bytes(), err
}

// writeConfig writes checkpointd.yaml and checks that it loads as the
// daemon will load it (strictly, validated).
func writeConfig(p Paths, o *Options, faceDistance float32) error {
	b, err := renderConfig(p, o, faceDistance)
	if err != nil {
		return err
	}
	if _, err := config.Parse(b); err != nil {
		return fmt.Errorf("demo config does not load: %w", err)
	}
	return atomicfile.WriteFile(p.Config, b, 0o600)
}
