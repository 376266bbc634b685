// Package gate is the local API for e-gate controllers: machine decisions
// (CLEAR / REFER / HIT) and an event stream, over a Unix socket by default
// (reachable only by users in the socket's group) or over TCP with a bearer
// token. A controller that reads the document itself can push it here.
//
// Gate messages carry no personal data: the gate needs to know what to do,
// not who the traveller is. The API is described in api/gate.openapi.yaml.
package gate
