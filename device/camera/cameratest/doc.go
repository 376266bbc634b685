// Package cameratest holds test doubles for the camera package: Fake, a
// camera.Camera serving still images with the same newest-frame, failure
// and Close semantics as camera.Capture, and helpers that turn the shared
// face photos into a recorded video for tests and the demo, so that the real
// gocv.VideoCapture path can be exercised on a machine without a camera.
//
// Ownership rules: functions returning a gocv.Mat or []gocv.Mat hand
// ownership to the caller, who must Close them; functions taking Mats never
// keep them (Fake clones what it is given). Every Fake must be Closed.
package cameratest
