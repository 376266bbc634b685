package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestDevices(t *testing.T) {
	fixture := filepath.Join("..", "..", "device", "camera", "testdata")
	sysfs, dev := filepath.Join(fixture, "sysfs"), filepath.Join(fixture, "dev")

	t.Run("cameras from fixture", func(t *testing.T) {
		out, errOut, code := runTech(t, "", nil, "devices", "--sysfs", sysfs, "--dev", dev)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"serial ports:", "cameras:", "video0", "HD Webcam C270", "046d:0825", "capture", "metadata (index 1)", "node missing"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		out, errOut, code := runTech(t, "", nil, "devices", "--sysfs", sysfs, "--dev", dev, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if strings.Count(out, "\n") != 1 {
			t.Fatalf("want one JSON line:\n%s", out)
		}
		var got devicesReport
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if got.SerialPorts == nil || len(got.Cameras) != 3 || got.Cameras[0].Name != "HD Webcam C270" || got.Cameras[0].VendorID != "046d" {
			t.Errorf("unexpected report: %+v", got)
		}
	})

	t.Run("no cameras", func(t *testing.T) {
		empty := t.TempDir()
		out, errOut, code := runTech(t, "", nil, "devices", "--sysfs", empty, "--dev", empty)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(out, "cameras:\n  none found") {
			t.Errorf("output does not say no camera was found:\n%s", out)
		}
		out, _, _ = runTech(t, "", nil, "devices", "--sysfs", empty, "--dev", empty, "--json")
		if !strings.Contains(out, `"cameras":[]`) || !strings.Contains(out, `"serial_ports":[`) {
			t.Errorf("JSON should hold empty lists, not null: %s", out)
		}
	})
}
