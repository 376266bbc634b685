package lane

import "errors"

// Errors of officer verdicts. The page shows each one to the officer in
// words: a verdict that is not recorded is never silent.
var (
	// ErrUnknownTransaction is returned when an officer decides on a
	// transaction the lane no longer holds.
	ErrUnknownTransaction = errors.New("lane: unknown transaction")

	// ErrBadVerdict is returned for a verdict that is not one of
	// confirmed, false_positive, referred or cleared, or that does not fit
	// the transaction (confirming a traveller nothing matched), or a
	// malformed reason, note or candidate judgement.
	ErrBadVerdict = errors.New("lane: bad verdict")

	// ErrNotDecided is returned for a verdict on a transaction whose check
	// is still running: the officer has not seen its result.
	ErrNotDecided = errors.New("lane: the check of this traveller is still running")

	// ErrAlreadyDecided is returned for a second verdict on a transaction
	// that does not say which verdict it replaces.
	ErrAlreadyDecided = errors.New("lane: a verdict is already recorded for this traveller")

	// ErrStaleVerdict is returned when a verdict supersedes one that is no
	// longer the transaction's latest (someone changed it meanwhile).
	ErrStaleVerdict = errors.New("lane: the verdict to change is no longer the latest")

	// ErrMovedOn is returned for a first verdict on a CLEAR transaction
	// after the next traveller has come: the lane has moved on.
	ErrMovedOn = errors.New("lane: this traveller has moved on")

	// ErrReasonRequired is returned when dismissing or clearing a HIT, or
	// changing a verdict, comes without a reason from the list.
	ErrReasonRequired = errors.New("lane: a reason from the list is required")

	// ErrPendingStore is returned by New when the stored work queue
	// (Config.Pending) cannot be loaded or holds something the lane did
	// not write.
	ErrPendingStore = errors.New("lane: the stored work queue cannot be loaded")
)
