// Package chiptest holds a chip.Reader test double: a reader whose card
// answers APDUs through a function the test gives (for example an eMRTD
// emulator's Process method), with insertion and removal driven by the
// test. It exercises the code above the reader (the lane, the CLI)
// without pcscd; the reader itself is tested through a real pcscd.
package chiptest
