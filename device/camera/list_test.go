package camera_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/checkpoint-edge/checkpoint/device/camera"
)

func TestListFixture(t *testing.T) {
	got, err := camera.List("testdata/sysfs", "testdata/dev")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	gotJSON := string(b)
	want := []camera.DeviceInfo{
		{Path: "testdata/dev/video0", Index: 0, Name: "HD Webcam C270", NodeIndex: 0, Capture: true, VendorID: "046d", ProductID: "0825", Serial: "E3C8A2B0", Present: true},
		{Path: "testdata/dev/video1", Index: 1, Name: "HD Webcam C270", NodeIndex: 1, Capture: false, VendorID: "046d", ProductID: "0825", Serial: "E3C8A2B0", Present: true},
		{Path: "testdata/dev/video2", Index: 2, Name: "vivid-000-vid-cap", NodeIndex: 0, Capture: true, Present: false},
	}
	b, _ = json.Marshal(want)
	if gotJSON != string(b) {
		t.Fatalf("List:\n got %s\nwant %s", gotJSON, b)
	}
}

func TestListNoCameras(t *testing.T) {
	for name, root := range map[string]string{
		"no video4linux class": t.TempDir(),
		"empty class": func() string {
			d := t.TempDir()
			if err := os.MkdirAll(filepath.Join(d, "class", "video4linux"), 0o755); err != nil {
				t.Fatal(err)
			}
			return d
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := camera.List(root, "/dev")
			if err != nil || len(got) != 0 {
				t.Fatalf("List = %v, %v; want none", got, err)
			}
		})
	}
}

func TestListUnreadable(t *testing.T) {
	d := t.TempDir()
	// class/video4linux is a file: a broken sysfs is an error, not "no cameras".
	if err := os.MkdirAll(filepath.Join(d, "class"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "class", "video4linux"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := camera.List(d, "/dev"); err == nil {
		t.Fatal("List on a broken sysfs succeeded")
	}
}
