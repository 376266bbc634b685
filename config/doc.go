// Package config loads checkpointd's configuration: a versioned YAML file,
// decoded strictly (unknown keys are errors, so a typo is caught at start
// rather than silently ignored), filled with defaults, and validated as a
// whole before any device is opened. Every OS path is configurable so tests
// and the demo can point at fixtures.
package config
