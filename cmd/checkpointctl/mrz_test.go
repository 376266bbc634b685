package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

// runMRZCtl runs the binary with stdin and returns stdout, stderr and the
// exit code.
func runMRZCtl(t *testing.T, bin, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return runBin(t, bin, stdin, nil, args...)
}

const (
	mrzTD3     = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n"
	mrzTD3OCR  = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8989O2C36UTO74O8122F1204159ZE184226B<<<<<10\n"
	mrzTD1Long = "I<UTOD23145890<7349<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<\n"
	mrzJunk    = "HELLO WORLD\n"
)

func TestMRZCLI(t *testing.T) {
	bin := techBinary(t)

	t.Run("parse human", func(t *testing.T) {
		out, errOut, code := runMRZCtl(t, bin, mrzTD3+"\n\n"+mrzTD1Long, "mrz", "parse", "--now", "2026-11-24")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"document 1: TD3 VALID", "document 2: TD1 VALID", "ERIKSSON", "ANNA MARIA", "L898902C3",
			"D23145890734 (long number", "1974-08-12", "UTO (Utopia)", "document has expired"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Index(out, "document 1") > strings.Index(out, "document 2") {
			t.Error("documents out of input order")
		}
	})

	t.Run("parse json with invalid documents", func(t *testing.T) {
		in := mrzTD3 + "\n" + mrzTD3OCR + "\n" + mrzJunk + "\n" + mrzTD1Long
		out, errOut, code := runMRZCtl(t, bin, in, "mrz", "parse", "--json", "--now", "2026-11-24")
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		if !strings.Contains(errOut, "2 of 4 documents invalid") {
			t.Errorf("stderr = %q", errOut)
		}
		var docs []mrz.Document
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var d mrz.Document
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				t.Fatalf("line is not a JSON document: %v\n%s", err, sc.Text())
			}
			docs = append(docs, d)
		}
		if len(docs) != 4 {
			t.Fatalf("%d JSON lines, want 4:\n%s", len(docs), out)
		}
		wantValid := []bool{true, false, false, true}
		for i, d := range docs {
			if d.Valid != wantValid[i] {
				t.Errorf("document %d valid = %v, want %v", i+1, d.Valid, wantValid[i])
			}
		}
		if docs[1].DocumentNumber != "L8989O2C3" || len(docs[1].Problems) == 0 || len(docs[1].Fields) != 10 {
			t.Errorf("invalid document lacks detail: %+v", docs[1])
		}
		if docs[2].Format != mrz.FormatUnknown || docs[2].Problems[0].Code != mrz.ProblemFormat {
			t.Errorf("junk = %+v", docs[2])
		}
		if docs[3].DocumentNumber != "D23145890734" {
			t.Errorf("long number = %q", docs[3].DocumentNumber)
		}
	})

	t.Run("parse autocorrect", func(t *testing.T) {
		out, errOut, code := runMRZCtl(t, bin, mrzTD3OCR, "mrz", "parse", "--json", "--autocorrect", "--now", "2026-11-24")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var d mrz.Document
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		if !d.Valid || d.DocumentNumber != "L898902C3" || len(d.Corrections) != 2 || len(d.InputLines) != 2 {
			t.Errorf("autocorrect: %+v", d)
		}
		out, _, _ = runMRZCtl(t, bin, mrzTD3OCR, "mrz", "parse", "--autocorrect", "--now", "2026-11-24")
		if !strings.Contains(out, "corrections:") || !strings.Contains(out, `"O"→"0" in document_number`) {
			t.Errorf("human output lacks corrections:\n%s", out)
		}
	})

	t.Run("parse empty stdin", func(t *testing.T) {
		_, errOut, code := runMRZCtl(t, bin, "\n\n", "mrz", "parse")
		if code == 0 || !strings.Contains(errOut, "no MRZ") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("generate explicit", func(t *testing.T) {
		out, errOut, code := runMRZCtl(t, bin, "", "mrz", "generate", "--format", "TD3", "--surname", "Eriksson", "--given", "Anna Maria",
			"--number", "L898902C3", "--state", "UTO", "--nationality", "UTO", "--birth", "1974-08-12", "--expiry", "2012-04-15",
			"--sex", "F", "--optional", "ZE184226B")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if out != mrzTD3 {
			t.Errorf("generate = %q, want the ICAO specimen %q", out, mrzTD3)
		}
	})

	t.Run("generate random round trip", func(t *testing.T) {
		for _, f := range []string{"TD1", "TD2", "TD3", "MRV-A", "MRV-B"} {
			out, errOut, code := runMRZCtl(t, bin, "", "mrz", "generate", "--format", f, "--count", "5", "--seed", "7")
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", f, code, errOut)
			}
			again, _, _ := runMRZCtl(t, bin, "", "mrz", "generate", "--format", f, "--count", "5", "--seed", "7")
			if again != out {
				t.Errorf("%s: same seed gave different documents", f)
			}
			parsed, errOut, code := runMRZCtl(t, bin, out, "mrz", "parse", "--json")
			if code != 0 {
				t.Fatalf("%s: generated documents do not parse valid: %s\n%s", f, errOut, out)
			}
			if n := strings.Count(parsed, "\n"); n != 5 {
				t.Errorf("%s: %d documents parsed, want 5", f, n)
			}
			if !strings.Contains(parsed, `"format":"`+f+`"`) {
				t.Errorf("%s: wrong format in %s", f, parsed)
			}
		}
	})

	t.Run("generate errors", func(t *testing.T) {
		_, errOut, code := runMRZCtl(t, bin, "", "mrz", "generate", "--format", "TD3", "--surname", "A", "--number", "ABCDEFGHIJKL")
		if code == 0 || !strings.Contains(errOut, "does not fit") {
			t.Errorf("long TD3 number: exit %d, stderr %q", code, errOut)
		}
		_, errOut, code = runMRZCtl(t, bin, "", "mrz", "generate", "--format", "TD9", "--surname", "A", "--number", "X1")
		if code == 0 || !strings.Contains(errOut, "unknown format") {
			t.Errorf("bad format: exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("check-digit", func(t *testing.T) {
		out, _, code := runMRZCtl(t, bin, "", "mrz", "check-digit", "L898902C3")
		if code != 0 || out != "6\n" {
			t.Errorf("check-digit = %q (exit %d)", out, code)
		}
		out, _, _ = runMRZCtl(t, bin, "", "mrz", "check-digit", "--json", "740812")
		if strings.TrimSpace(out) != `{"check_digit":"2","input":"740812"}` {
			t.Errorf("check-digit --json = %q", out)
		}
		_, errOut, code := runMRZCtl(t, bin, "", "mrz", "check-digit", "AB-12")
		if code == 0 || !strings.Contains(errOut, "only A-Z") {
			t.Errorf("bad input: exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("transliterate", func(t *testing.T) {
		out, _, code := runMRZCtl(t, bin, "", "mrz", "transliterate", "Müller-Lüdenscheidt")
		if code != 0 || !strings.HasPrefix(out, "MUELLER LUEDENSCHEIDT\nMULLER LUDENSCHEIDT\n") {
			t.Errorf("transliterate = %q", out)
		}
	})
}
