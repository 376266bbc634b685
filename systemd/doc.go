// Package systemd holds the unit files for checkpointd and checkpoint-hub
// and the tests that keep them verifiable and hardened (systemd-analyze
// verify passes; security exposure at most 2.5).
package systemd
