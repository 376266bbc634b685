// Package pull keeps a unit's watchlist current from the hub over HTTPS.
//
// A Puller polls <base>/<watchlist-id>/index.json (the static layout of
// sync/bundle, FORMAT.md) with If-None-Match, so an unchanged index costs a
// 304. From the installed sequence it picks the cheapest chain of deltas,
// else a full bundle, downloads each file resumably (HTTP Range into a
// .part file, If-Range with the ETag so that a replaced file restarts
// cleanly, SHA-256 checked against the index at the end), and installs it
// with bundle.Install, which verifies everything before the store's atomic
// swap. A delta that diverges falls back to the full bundle.
//
// The same Puller keeps a data channel current when Config.Target is set
// (sync/channel.Target): <base>/<kind>/<channel>/index.json, full bundles
// only, installed into the unit's channel store. A unit runs one Puller
// per channel, each with its own index, download folder and interval.
//
// The link is mutual TLS: the unit presents its own client certificate and
// trusts only the pinned fleet CA (sync/pki.ClientConfig). Polling is
// jittered, failures back off exponentially with a replaceable Clock, the
// bandwidth can be capped, and Link reports the link state for status
// pages. Every call takes a context.
//
// Ownership: the Puller owns its download directory (0700); the store is
// the caller's and is not closed by Close. Logs carry sequences, sizes and
// errors, never record content.
package pull
