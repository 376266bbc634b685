// Package polkit holds the polkit rule that lets the checkpoint user use
// pcscd (50-checkpoint-pcscd.rules, installed by make install and the
// .deb) and its test against a real polkitd. It has no Go code.
package polkit
