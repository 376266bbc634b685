// Package browsertest runs browser tests of the officer's page on a real
// headless Debian Chromium through chromedp: one browser per test binary
// (started on first use, stopped by Close from TestMain), and a fresh
// browser context (its own cookies, so its own officer session) and tab
// per call to Tab. Screenshots go to Artifacts.
//
// Chromium is a prerequisite CI installs (make deps): a test that needs it
// fails when CI is set and it is missing, and skips elsewhere.
package browsertest
