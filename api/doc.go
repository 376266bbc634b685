// Package api holds the OpenAPI descriptions of Checkpoint's HTTP
// interfaces: the e-gate API (gate.openapi.yaml, served by checkpointd on a
// Unix socket or TCP) and the headquarters API (hub.openapi.yaml, served by
// checkpoint-hub over mutual TLS).
//
// It has no code of its own. Its tests prove that a gate vendor or an HQ
// developer can generate a working client from each file: they run a
// standard generator (oapi-codegen) on the file and drive the real server
// with the generated client. The files are also linted with Redocly CLI
// (make lint-api), and gate/spec_test.go checks every path and status of
// the gate API against the handler.
package api
