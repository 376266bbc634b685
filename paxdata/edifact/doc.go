// Package edifact is the UN/EDIFACT syntax layer (ISO 9735) that API and
// PNR messages travel in: the UNA service string advice (custom
// separators and release character), the UNB/UNZ interchange envelope,
// optional UNG/UNE functional groups, and UNH/UNT messages, with every
// count and reference checked. Segment terminators may or may not be
// followed by line breaks, and line breaks inside a segment (carriers
// that wrap at 80 columns) are dropped. Repetition separators (syntax
// version 4) and component separators split data elements; release
// characters are undone.
//
// Parse never gives up on the whole file because of one message: a damaged
// segment carries its error, the message it is in is marked (Message.Err),
// and the next message starts at the next UNH. Errors name the message
// (its UNH reference), the segment number within it (UNH = 1), the tag
// and the reason. Input is bounded (MaxInterchangeSize, MaxSegmentSize,
// MaxElements, MaxComponents).
//
// Segment content is personal data in API/PNR messages: nothing here logs,
// and error reasons quote tags and counts, never element values, except
// the control values of the envelope (references, counts).
package edifact
