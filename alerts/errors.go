package alerts

import "errors"

// ErrInvalid is returned when an alert received on the channel, or a
// sharing policy, does not check.
var ErrInvalid = errors.New("alerts: invalid")
