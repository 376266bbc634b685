// Package chipsim emulates an ICAO 9303 eMRTD chip (an e-passport or ID
// card) behind the vsmartcard vpcd virtual reader of pcscd. It is for tests
// and the demo, never for production: it is written from the specifications
// (Doc 9303 Parts 10 and 11, ISO/IEC 7816-4, BSI TR-03110) so that the
// reader code can be tested against an independent card, and nothing in it
// runs in constant time.
//
// # Using it
//
//	srv := pcsctest.StartTB(t, pcsctest.Options{})       // private pcscd + vpcd
//	pki, _ := issuer.NewPKI("UTO", issuer.PKIOptions{})  // CSCA, DS, master list, CRL, bad DSs
//	doc, _ := issuer.Issue(issuer.Traveller{ /* MRZ fields, face */ }, pki.DS, issuer.Options{
//		AAKey: "rsa1024", CAKey: "ec-brainpoolP256r1",
//		PACE:  []issuer.PACEParams{{Suite: lds.SuiteAES128, Curve: "brainpoolP256r1"}},
//	})
//	cfg := chipsim.FromLDS(doc)                  // files, MRZ key, CAN, AA and CA keys
//	cfg.Faults.ResponseDelay = chipsim.Duration(50 * time.Millisecond)
//	card, _ := chipsim.NewCard(cfg)
//	em := chipsim.NewEmulator(srv.VPCDAddr, card, nil)
//	em.Insert()     // the card enters the field; em.Remove() takes it out
//	defer em.Close()
//	// The reader under test finds the card in srv.Reader through
//	// srv.SocketPath (pure Go client) or srv.Env() (libpcsclite).
//
// Card.Process answers one APDU without any transport, for table tests;
// Card.Stats counts what the chip was asked (reads, BAC and PACE attempts,
// SM aborts, AA signatures, CA completions). Emulator.Run keeps the card in
// the reader until its context ends (what `chipsim emulate` does).
//
// # Profiles
//
// LoadProfile reads a JSON chip description (the full format is on the
// Profile type; testdata/example-profile.json is an example): "traveller"
// (MRZ fields with dates as YYYY-MM-DD, "can", "face" a JPEG file,
// "face_jpeg2000" to re-encode it with opj_compress, optional "dg11" and
// "dg12"), "chip" ("aa_key"/"aa_key_file", "aa_hash", "ca_key"/
// "ca_key_file", "ca_suite", "ca_key_id", "pace" [{suite, curve}],
// "disable_bac", "max_extended_read", "atr"), "signer" (DS certificate and
// key PEM files), "tamper" (issuer.Tamper) and "faults" (below). Paths are
// relative to the profile; unknown fields are errors. Profile.Build issues
// the document and returns the Config and the issued LDS.
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
//   - bad_response_mac (int): from the Nth protected response of a session
//     on, the MAC is wrong.
//   - remove_after_reads (int) / removed_for ("300ms"): the card leaves the
//     field instead of answering the Nth READ BINARY since the emulator
//     first inserted it (once), and comes back after removed_for as a
//     freshly powered chip (a new session is needed).
//   - response_delay ("50ms"): added before every answer.
//   - refuse_bac / refuse_pace (bool): authentication fails with 6300
//     whatever the key.
//   - clone (bool): Active and Chip Authentication use fresh keys that do
//     not match DG15/DG14 (the data copied onto another chip): the AA
//     signature does not verify, and after CA the chip rejects the reader's
//     MACs (6988).
//   - malformed_length (file names): the files' outer TLV length claims
//     64 KiB more than present.
//
// Data faults that must carry a valid signature (unknown tags, an oversized
// DG2) or deliberately break it (a data group altered after signing) are
// made by package issuer.
//
// # Notes for reader implementers
//
//   - Protected answers to odd INS (READ BINARY B1) carry DO'85' (the data
//     is BER-TLV: DO'53'), even INS DO'87' with padding indicator 01.
//   - A short Le yields at most 256 bytes of plain data: under secure
//     messaging the protected answer is then longer than 256 bytes, which
//     pcscd and vpcd carry; cautious readers ask for 0xDF.
//   - pcscd (go-libpcsclite) lists reader names padded with NUL bytes.
//
// # Timing through pcscd
//
// vpcd accepts a card only at pcscd's presence poll, about every 400 ms,
// and pcscd notices a removal at the next poll too: an insert/remove cycle
// costs 0.4–0.8 s of wall time however fast the reader is. Emulator.Remove
// waits until vpcd has taken the connection so that every insertion is
// seen and the next Insert connects at once. After a re-insertion, commands
// fail until pcscd has polled the card again: readers must retry.
//
// vpcd writes each message as two TCP segments (length, then payload) with
// Nagle's algorithm on; the emulator sets TCP_QUICKACK before every read so
// that an APDU costs tens of microseconds instead of a 40 ms delayed ACK.
package chipsim
