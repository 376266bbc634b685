package edifact

import "errors"

var (
	// ErrNoInterchange is returned when the data holds no interchange
	// (no UNA or UNB at the start).
	ErrNoInterchange = errors.New("edifact: not an interchange")

	// ErrTooLarge is returned when the data exceeds MaxInterchangeSize.
	ErrTooLarge = errors.New("edifact: interchange too large")

	// ErrSyntax matches every *Error (errors.Is): a problem in a segment,
	// a message or the envelope.
	ErrSyntax = errors.New("edifact: syntax error")
)
