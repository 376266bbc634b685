// Package unit wires a Checkpoint unit together from its configuration:
// audit log, watchlist store, outbox, face recognizer, scanner, camera, the
// lane pipeline, the officer's page, the e-gate API, the technician's admin
// socket, the uploader and the watchlist puller, metrics and systemd
// notification, the signed data channels (channels.go: the channel store,
// its consumers registered by channelHooks, one puller per configured
// channel, expiry) and pre-arrival screening (paxdata.go: the prearrival
// consumer, the inbox, retention, the lane's pre-arrival hits). Only
// cmd/checkpointd imports it.
//
// Lifecycle: New opens what must exist before the unit can serve (store,
// outbox, audit log, models) and returns a clear error naming what failed;
// Run starts one goroutine per subsystem under one context and returns when
// the context ends, after shutting the servers down; Close releases
// everything and may be called after a partial New.
package unit
