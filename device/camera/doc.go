// Package camera captures frames from a USB camera (V4L2) or any other
// OpenCV source — a recorded video file or a GStreamer pipeline — through
// the same gocv.VideoCapture path, so that tests and the demo exercise the
// code the desk runs.
//
// A Capture is built with Open (which only validates its Config) and driven
// by Run, which opens the source, reads it continuously and reopens it with
// exponential backoff when it fails (camera unplugged, driver error,
// truncated file). Only the newest frame is kept: consumers never receive a
// frame buffered before a newer one was read. File sources are paced at
// their frame rate so that a recording behaves like a live camera.
//
// Ownership rules:
//   - Every *Frame returned by Latest or Next is a private copy owned by the
//     caller, who must Close it. The Capture's own Mats never leave it.
//   - Close is idempotent, wakes every blocked Next, waits for Run to return
//     and releases every gocv.Mat and the VideoCapture.
//   - A Capture logs device and format facts only; frames and anything
//     derived from them are never logged.
//
// The cameratest sub-package holds a Fake camera serving still images and a
// helper that writes a video file from photos.
package camera
