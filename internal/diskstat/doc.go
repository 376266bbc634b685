// Package diskstat reports the free and total space of the file system
// holding a path, the way checkpointd judges its state directory: low when
// under 5% or under 500 MB is free. It has no state; nothing to close.
package diskstat
