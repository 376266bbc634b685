// Package chipsim emulates an ICAO 9303 eMRTD chip (an e-passport or ID
// card) behind the vsmartcard vpcd virtual reader of pcscd. It is for tests
// and the demo, never for production: it is written from the specifications
// (Doc 9303 Parts 10 and 11, ISO/IEC 7816-4, BSI TR-03110) so that the
// reader code can be tested against an independent card, and nothing in it
// runs in constant time.
//
// # Using it
//
//	srv := pcsctest.StartTB(t, pcsctest.Options{})      // private pcscd + vpcd
//	card, err := chipsim.NewCard(chipsim.Config{
//		MRZ:   chipsim.MRZKey{DocumentNumber: "L898902C", DateOfBirth: "690806", DateOfExpiry: "940623"},
//		Files: lds.Files,   // from package issuer: CardAccess, COM, SOD, DG1 …
//		AAKey: lds.AAKey,   // optional: Active Authentication (DG15)
//		CAKey: lds.CAKey,   // optional: Chip Authentication (DG14)
//	})
//	em := chipsim.NewEmulator(srv.VPCDAddr, card, nil)
//	em.Insert()   // the card enters the field; em.Remove() takes it out
//	defer em.Close()
//	// the reader under test now finds a card in srv.Reader via srv.SocketPath
//
// Card.Process answers one APDU without any transport, for table tests.
// LoadProfile reads a JSON profile (see profile.go and `checkpointctl chip
// emulate`).
//
// # What the chip does
//
//   - SELECT: the eMRTD application by AID A0000002471001 (P1 04), the master
//     file (P1 00, no data or 3F00), an EF of the current DF by FID (P1 00/02).
//     EF.CardAccess (011C) lives in the master file; EF.COM (011E), EF.SOD
//     (011D) and DG1–DG16 (0101–0110) in the application, as on real chips:
//     selecting EF.COM without selecting the application first gives 6A82.
//     P2 0C returns no data; P2 00 returns an FCP (62: 80 size, 83 FID) or
//     the FCI of the application.
//   - READ BINARY: even INS B0 with a 15-bit offset or a short file
//     identifier (P1 = 80|SFI, offset in P2); odd INS B1 with the file in
//     P1-P2 (0000 current, an SFI, or a FID) and the offset in DO'54',
//     answering DO'53'. Short Le gives at most 256 bytes, extended Le at most
//     Config.MaxExtendedRead (default 4096). An offset at or past the end
//     gives 6B00; fewer bytes than Le at the end of the file give 9000.
//   - Access control: before BAC or PACE only EF.CardAccess can be read;
//     every other READ BINARY gives 6982 (SELECT works).
//   - BAC: GET CHALLENGE then MUTUAL AUTHENTICATE (3DES, retail MAC); a
//     wrong MRZ gives 6300, MUTUAL AUTHENTICATE without a fresh challenge
//     6985. Checked byte for byte against Doc 9303 Part 11 Appendix D.
//   - PACE v2, ECDH Generic Mapping, on every PACEInfo of EF.CardAccess
//     (NIST P-256/P-384, brainpoolP256r1/P384r1; 3DES or AES-128/192/256):
//     MSE:Set AT (C1A4: 80 OID, 83 password 01 MRZ or 02 CAN, optional 84
//     parameter ID), then GENERAL AUTHENTICATE steps 1–4 (CLA 10 chaining on
//     steps 1–3 accepted). A wrong password or token gives 6300. Checked byte
//     for byte against Appendix G.1.
//   - Secure messaging for every command after BAC/PACE: DO'87' (DO'85' for
//     odd INS), DO'97', DO'99', DO'8E', ISO 9797-1 padding, SSC incremented
//     before each command and each response; 3DES with retail MAC or AES with
//     CMAC and IV = E(KSenc, SSC). A missing MAC gives 6987, a wrong one 6988,
//     both in the clear, and end the session; so does any plain command,
//     which is then answered as if unauthenticated. Other errors are
//     answered protected (DO'99').
//   - Active Authentication: INTERNAL AUTHENTICATE (8-byte challenge) under
//     secure messaging, with RSA (ISO/IEC 9796-2 scheme 1, SHA-1 trailer BC
//     or SHA-2 trailer xxCC) or ECDSA (plain r || s over the challenge's
//     digest). Without an AA key: 6D00.
//   - Chip Authentication (ECDH, version 1) under secure messaging: MSE:Set
//     AT (41A4: 80 OID, optional 84 key ID) + GENERAL AUTHENTICATE (7C 80
//     ephemeral key → 7C 00), or MSE:Set KAT (41A6: 91 ephemeral key) for
//     3DES. The answer is protected with the old keys; the session then
//     restarts with KDF(shared secret) keys and SSC 0 for the DG14 protocol's
//     cipher.
//   - Everything else gives 6D00; other CLA bytes 6E00; chaining outside
//     GENERAL AUTHENTICATE 6884; SM without a session 6882.
//
// # Faults (Config.Faults, profile "faults")
//
//   - bad_response_mac: from the Nth protected response of a session on,
//     the MAC is wrong.
//   - remove_after_reads / removed_for: the card leaves the field instead of
//     answering the Nth READ BINARY since insertion (once), and comes back
//     after removed_for as a freshly powered chip.
//   - response_delay: added before every answer.
//   - refuse_bac / refuse_pace: authentication fails with 6300 whatever the
//     key.
//   - clone: Active and Chip Authentication use fresh keys that do not match
//     DG15/DG14 (the data copied onto another chip).
//   - malformed_length: the named files' outer TLV length claims 64 KiB more
//     than present.
//
// Data faults that must carry a valid signature (unknown tags, an oversized
// DG2) or deliberately break it (a data group altered after signing) are
// made by package issuer.
//
// # Timing through pcscd
//
// vpcd accepts a card only at pcscd's presence poll, about every 400 ms,
// and pcscd notices a removal at the next poll too: an insert/remove cycle
// costs 0.4–0.8 s of wall time however fast the reader is. Emulator.Remove
// waits until vpcd has taken the connection so that every insertion is
// seen and the next Insert connects at once.
package chipsim
