package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/device/camera/cameratest"
)

func TestCameraCLI(t *testing.T) {
	bin := techBinary(t)
	fixture := filepath.Join("..", "..", "device", "camera", "testdata")

	t.Run("list", func(t *testing.T) {
		out, errOut, code := runCtl(t, bin, nil, "camera", "list",
			"--sysfs", filepath.Join(fixture, "sysfs"), "--dev", filepath.Join(fixture, "dev"))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"PATH", "video0", "HD Webcam C270", "046d:0825", "vivid-000-vid-cap", "node missing"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("list json", func(t *testing.T) {
		out, errOut, code := runCtl(t, bin, nil, "camera", "list", "--json",
			"--sysfs", filepath.Join(fixture, "sysfs"), "--dev", filepath.Join(fixture, "dev"))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 {
			t.Fatalf("want 3 JSON lines, got %q", out)
		}
		var d camera.DeviceInfo
		if err := json.Unmarshal([]byte(lines[0]), &d); err != nil {
			t.Fatal(err)
		}
		if d.Index != 0 || d.Name != "HD Webcam C270" || !d.Capture || d.VendorID != "046d" {
			t.Fatalf("first device %+v", d)
		}
	})

	t.Run("no cameras", func(t *testing.T) {
		empty := t.TempDir()
		out, _, code := runCtl(t, bin, nil, "camera", "list", "--sysfs", empty)
		if code != 0 || !strings.Contains(out, "no cameras found") {
			t.Fatalf("exit %d, output %q", code, out)
		}
		out, errOut, code := runCtl(t, bin, nil, "camera", "list", "--json", "--sysfs", empty)
		if code != 0 || out != "" || !strings.Contains(errOut, "no cameras found") {
			t.Fatalf("json: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})

	photos := cameratest.FacePhotos(t)
	video := filepath.Join(t.TempDir(), "desk.avi")
	if err := cameratest.VideoFromPhotos(video, photos[:2], 10, 30); err != nil {
		t.Fatal(err)
	}

	for _, ext := range []string{".jpg", ".png"} {
		t.Run("snap "+ext, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "snap"+ext)
			out, errOut, code := runCtl(t, bin, nil, "camera", "snap", "--device", video, "--out", path, "--warmup", "3")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, "640x480") || !strings.Contains(out, "frame 4") || !strings.Contains(out, "MJPG") {
				t.Fatalf("output %q", out)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Fatalf("picture mode %v, want 0600", st.Mode().Perm())
			}
			img := gocv.IMRead(path, gocv.IMReadColor)
			defer img.Close()
			if img.Cols() != 640 || img.Rows() != 480 {
				t.Fatalf("picture is %dx%d", img.Cols(), img.Rows())
			}
			// A face photo, not a black frame.
			if m := img.Mean(); m.Val1+m.Val2+m.Val3 < 30 {
				t.Fatalf("picture is dark: mean %v", m)
			}
			// An existing picture is not overwritten without --force.
			_, errOut, code = runCtl(t, bin, nil, "camera", "snap", "--device", video, "--out", path)
			if code != 2 || !strings.Contains(errOut, "--force") {
				t.Fatalf("overwrite: exit %d, %s", code, errOut)
			}
		})
	}

	t.Run("snap json", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "snap.jpeg")
		out, errOut, code := runCtl(t, bin, nil, "camera", "snap", "--json", "--device", video, "--out", path, "--warmup", "0")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var res snapResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v: %q", err, out)
		}
		st, _ := os.Stat(path)
		if res.Width != 640 || res.Height != 480 || res.Seq != 1 || st == nil || int64(res.Bytes) != st.Size() ||
			res.CapturedAt.IsZero() || res.Source.FourCC != "MJPG" {
			t.Fatalf("result %+v", res)
		}
	})

	errCases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"bad extension", []string{"--device", video, "--out", "snap.gif"}, 2, ".jpg, .jpeg or .png"},
		{"missing device flag", []string{"--out", "x.jpg"}, 1, "device"},
		{"bad config", []string{"--device", video, "--out", "x.jpg", "--width", "640"}, 2, "width and height"},
		{"no such camera", []string{"--device", "/dev/video-nonexistent", "--out", "x.jpg", "--retries", "1"}, 1, "no such file"},
		{"too short for warm-up", []string{"--device", video, "--out", "x.jpg", "--warmup", "100"}, 1, "before 100 warm-up frames"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"camera", "snap"}, tc.args...)
			for i, a := range args {
				if a == "x.jpg" || a == "snap.gif" {
					args[i] = filepath.Join(dir, a)
				}
			}
			_, errOut, code := runCtl(t, bin, nil, args...)
			if code != tc.code || !strings.Contains(errOut, tc.msg) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", code, errOut, tc.code, tc.msg)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("failed snap left %v", entries)
			}
		})
	}
}
