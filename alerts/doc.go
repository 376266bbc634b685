// Package alerts is confirmed-hit sharing between posts: when an officer
// confirms a hit whose category headquarters' policy shares (for example
// foreign_terrorist_fighter with action discreet_check), headquarters
// publishes a short-lived Alert on the signed "alerts" bundle channel
// (sync/bundle, sync/channel), and every other post that pulls the channel
// shows it when its own lane hits the same watchlist entry: "shared alert:
// seen at post desk-07 at 14:05".
//
// An alert carries references, not identities: the watchlist entries hit
// ("person:P-17"), the category and action, where and when. A post
// resolves the entry against its own copy of the watchlist, so the alert
// channel holds no names or document numbers.
//
// Headquarters builds alerts with Policy and FromConfirmed (hub's
// AlertPublisher); units consume them with Book, a sync/channel.Consumer.
package alerts
