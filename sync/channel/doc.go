// Package channel keeps the signed data channels of a unit besides its
// watchlist: CSCA trust lists for the passport chip ("trust"), shared-hit
// alerts from headquarters ("alerts"), per-flight pre-arrival alerts for
// the arrival port ("prearrival"), and any other kind a consumer
// registers. Each channel arrives as a channel bundle (sync/bundle,
// FORMAT.md "Channel bundles"): signed, encrypted, protected against
// rollback and expiry exactly like a watchlist bundle, pulled from the
// hub (sync/pull with a Target) or sideloaded (checkpointctl bundle
// import).
//
// The API, for a consumer:
//
//	type Consumer interface {
//		Validate(channel string, recs []bundle.Record) error // refuse a bundle's records
//		Load(st State, recs []bundle.Record)                  // the channel's current, unexpired records
//	}
//
//	reg := channel.NewRegistry()
//	reg.Register(bundle.KindPrearrival, myConsumer)   // once per kind, at wiring time
//	store, _ := channel.Open(path, kek, channel.Options{})
//	reg.LoadAll(store, time.Now())                    // at start: hand every consumer what is stored
//	channel.Install(ctx, file, store, reg, nil, opts) // sideload (nil: any registered kind)
//	pull.New(pull.Config{BaseURL: …, TLS: …, Dir: …,  // pull one channel from the hub
//		Target: &channel.Target{Store: store, Registry: reg, Kind: "prearrival", Channel: "LHR", Bundle: opts}})
//	reg.Expire(store, time.Now())                     // periodically: drop expired records, reload consumers
//
// Records are bundle.Record: {"id", "expires_at" (optional), "data" (the
// kind's own JSON)}. A consumer decodes Data itself, checks it in
// Validate (an error refuses the whole bundle, ErrRejected, and nothing
// changes), and rebuilds its in-memory view in Load, which is called after
// every install, after every expiry and by LoadAll. Load only ever sees
// records that have not expired, and nothing once the channel's bundle
// itself has expired; a consumer that keeps records across time must also
// check Record.Expired when it uses one, since Load is only as frequent as
// Expire is called.
//
// Install verifies the whole bundle first (bundle.ReadChannel: signature,
// signer, encryption, expiry, sizes, every record envelope, payload hash),
// then checks the kind has a consumer (ErrWrongKind), the channel is the
// one asked for (ErrChannelMismatch), the sequence is newer than the
// installed one (ErrRollback), and the consumer accepts the records
// (ErrRejected), and only then replaces the channel's records in one
// bbolt transaction: a crash leaves the old or the new content, never a
// mix.
//
// The Store is a bbolt file, 0600, encrypted at rest like the outbox
// (internal/sealdb: a random data key wrapped by the key-encryption key;
// each record and each channel state sealed with XChaCha20-Poly1305 and
// bound to its channel, sequence and position). It keeps, per (kind,
// channel), the installed sequence and expiry, so that rollback protection
// survives restarts and expired content is never handed out.
//
// Ownership: the caller owns the Store and closes it; consumers are called
// synchronously from Install, LoadAll and Expire and must not block. Logs
// carry kinds, channels, sequences and counts, never record content.
package channel
