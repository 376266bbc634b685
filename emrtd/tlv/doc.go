// Package tlv parses and builds BER-TLV as the eMRTD LDS, secure
// messaging and PACE/CA use it (ISO/IEC 7816-4 and 8825-1): tags of one
// to three bytes, definite lengths of up to four length bytes. Parsing
// never panics and never allocates more than the input: a length that
// runs past the data is an error, not a read.
package tlv
