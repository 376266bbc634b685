// Package sm is eMRTD secure messaging (ICAO Doc 9303 Part 11 §9.8): the
// key derivation function, 3DES (two-key, CBC, ISO 9797-1 MAC algorithm 3
// "retail MAC") and AES (CBC with the SSC-derived IV, CMAC truncated to 8
// bytes) session keys with their send-sequence counter, and the wrapping
// of command APDUs and unwrapping of responses.
//
// A Session is not safe for concurrent use: APDUs of one card are
// sequential, and the counter advances with each.
package sm
