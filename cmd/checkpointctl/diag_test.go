package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readDiagBundle returns the bundle's files by base name.
func readDiagBundle(t *testing.T, file string) map[string][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h.Name, "checkpoint-diag-") || strings.Count(h.Name, "/") != 1 {
			t.Errorf("member %q is not in the bundle's folder", h.Name)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[path.Base(h.Name)] = b
	}
	return files
}

func TestDiag(t *testing.T) {
	dir := shortTempDir(t)
	// Sensitive values planted where a careless bundle would pick them up.
	const (
		docNumber = "X99887766"    // in an audit entry's fields
		travName  = "ERIKSSONANNA" // in a journal field a program added
		pin       = "739164"       // an officer PIN in the environment
		hubSecret = "S3cretTok"    // credentials in the hub URL
		kekHex    = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	)
	cfg := writeMinimalConfig(t, dir, `watchlist: {id: national, key: "env:CP_DIAG_KEY", trust: /etc/checkpoint/trust.json, identity: "file:/etc/checkpoint/unit.age"}
hub: {url: "https://unit:`+hubSecret+`@hub.example.org/api", ca: /etc/checkpoint/ca.pem, cert: /etc/checkpoint/unit.pem, key: /etc/checkpoint/unit.key}
`)
	head := writeAuditLog(t, filepath.Join(dir, "audit.log"), 3, map[string]string{"document_number": docNumber, "officer_pin": pin})
	accounts := filepath.Join(dir, "accounts.json")
	if err := os.WriteFile(accounts, []byte(`{"officers":[{"id":"o1","name":"Anna","pin_hash":"$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"}]}`), 0o640); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, "journal.json")
	if err := os.WriteFile(journal, []byte(strings.Join([]string{
		`{"__REALTIME_TIMESTAMP":"1764000000000000","_PID":"812","PRIORITY":"6","_SYSTEMD_UNIT":"checkpointd.service","MESSAGE":"{\"level\":\"INFO\",\"msg\":\"scanner connected\",\"port\":\"/dev/ttyUSB0\"}"}`,
		`{"__REALTIME_TIMESTAMP":"1764000001000000","_PID":"812","PRIORITY":"4","MESSAGE":"camera reconnecting","TRAVELLER":"` + travName + `","DOCUMENT_NUMBER":"` + docNumber + `","_CMDLINE":"checkpointd --pin ` + pin + `"}`,
		`not json ` + docNumber,
	}, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serveStatus(t, dir, statusHandler(realisticStatus(time.Now().UTC())))
	env := []string{"CP_DIAG_KEY=" + kekHex, "OFFICER_PIN=" + pin, "CHECKPOINT_DEBUG_DOC=" + docNumber}
	sensitive := []string{docNumber, travName, pin, hubSecret, kekHex, "argon2id"}

	out := filepath.Join(t.TempDir(), "diag.tar.gz")
	stdout, errOut, code := runTech(t, "", env, "diag", "--config", cfg, "--out", out, "--journal-file", journal,
		"--sysfs", filepath.Join("..", "..", "device", "camera", "testdata", "sysfs"))
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, "wrote "+out) {
		t.Errorf("stdout: %s", stdout)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("bundle: %v, mode %v", err, st.Mode().Perm())
	}
	files := readDiagBundle(t, out)
	for _, name := range []string{"MANIFEST.txt", "config.yaml", "status.json", "versions.json", "devices.json", "audit.json", "disk.json", "journal.jsonl"} {
		if len(files[name]) == 0 {
			t.Errorf("bundle lacks %s (has %v)", name, keys(files))
		}
	}
	for name, b := range files {
		for _, s := range sensitive {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains the sensitive value %q:\n%s", name, s, b)
			}
		}
	}

	t.Run("contents", func(t *testing.T) {
		var a statusAudit
		if err := json.Unmarshal(files["audit.json"], &a); err != nil {
			t.Fatal(err)
		}
		if !a.OK || a.Entries != 3 || a.Head != head {
			t.Errorf("audit.json: %+v, want 3 entries, head %s", a, head)
		}
		var st map[string]any
		if err := json.Unmarshal(files["status.json"], &st); err != nil || st["version"] != "1.4.0" {
			t.Errorf("status.json: %v %v", err, st)
		}
		c := string(files["config.yaml"])
		for _, want := range []string{"env:CP_DIAG_KEY", "file:/etc/checkpoint/unit.age", "hub.example.org", "REDACTED", "desk-07"} {
			if !strings.Contains(c, want) {
				t.Errorf("config.yaml lacks %q:\n%s", want, c)
			}
		}
		j := string(files["journal.jsonl"])
		if strings.Count(j, "\n") != 2 || !strings.Contains(j, "scanner connected") || !strings.Contains(j, "camera reconnecting") ||
			strings.Contains(j, "TRAVELLER") || strings.Contains(j, "_CMDLINE") {
			t.Errorf("journal.jsonl not filtered as expected:\n%s", j)
		}
		var v diagVersionsReport
		if err := json.Unmarshal(files["versions.json"], &v); err != nil || !strings.HasPrefix(v.Go, "go") {
			t.Errorf("versions.json: %v %+v", err, v)
		}
		if !strings.Contains(string(files["devices.json"]), "HD Webcam C270") {
			t.Errorf("devices.json: %s", files["devices.json"])
		}
	})

	t.Run("daemon not running", func(t *testing.T) {
		dir := t.TempDir()
		cfg := writeMinimalConfig(t, dir, "")
		out := filepath.Join(dir, "d.tar.gz")
		stdout, errOut, code := runTech(t, "", nil, "diag", "--config", cfg, "--out", out, "--no-journal", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s%s", code, stdout, errOut)
		}
		var res struct {
			Files []string
			Notes []string
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		files := readDiagBundle(t, out)
		if !strings.Contains(string(files["status.json"]), `"running": false`) || len(res.Notes) == 0 {
			t.Errorf("status.json %s, notes %v", files["status.json"], res.Notes)
		}
		if _, ok := files["journal.jsonl"]; ok {
			t.Error("--no-journal still bundled the journal")
		}
	})

	t.Run("no out", func(t *testing.T) {
		_, errOut, code := runTech(t, "", nil, "diag", "--config", cfg)
		if code != 2 || !strings.Contains(errOut, "--out") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestFilterJournal(t *testing.T) {
	in := strings.Join([]string{
		`{"MESSAGE":"one","SECRET":"x"}`,
		`{"MESSAGE":"two","_PID":"1"}`,
		`garbage`,
		`{"MESSAGE":"three","MESSAGE_ID":"abc"}`,
		`[1,2]`,
	}, "\n")
	var out bytes.Buffer
	if err := filterJournal(strings.NewReader(in), &out, 2); err != nil {
		t.Fatal(err)
	}
	want := `{"MESSAGE":"two","_PID":"1"}` + "\n" + `{"MESSAGE":"three","MESSAGE_ID":"abc"}` + "\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestDiagRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://u:p@hub.example.org/x?token=abc", "https://REDACTED@hub.example.org/x?REDACTED"},
		{"https://hub.example.org/x", "https://hub.example.org/x"},
		{"rtsp://admin:pw@10.0.0.9/stream", "rtsp://REDACTED@10.0.0.9/stream"},
		{"/dev/video0", "/dev/video0"},
		{"videotestsrc ! appsink", "videotestsrc ! appsink"},
	} {
		if got := diagRedactURL(tc.in); got != tc.want {
			t.Errorf("diagRedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"file:/etc/k", "file:/etc/k"}, {"credential:watchlist.kek", "credential:watchlist.kek"}, {"env:K", "env:K"},
		{"/etc/k", "/etc/k"}, {"", ""},
		{"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "REDACTED (not a file:, credential: or env: spec)"},
	} {
		if got := diagRedactKeySpec(tc.in); got != tc.want {
			t.Errorf("diagRedactKeySpec(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// journalSeeds are the journal lines of the table tests above.
var journalSeeds = []string{
	`{"MESSAGE":"one","SECRET":"x"}`,
	`{"MESSAGE":"two","_PID":"1"}`,
	`garbage`,
	`{"MESSAGE":"three","MESSAGE_ID":"abc"}`,
	`[1,2]`,
	`{"__REALTIME_TIMESTAMP":"1764000001000000","MESSAGE":[104,105],"TRAVELLER":"ERIKSSON"}`,
	`{"MESSAGE":null}`,
}

// FuzzFilterJournal: whatever journalctl (or a damaged export) gives,
// every line kept is a JSON object holding only allowed fields, and no
// more lines than asked for.
func FuzzFilterJournal(f *testing.F) {
	for _, s := range journalSeeds {
		f.Add(s)
	}
	f.Add(strings.Join(journalSeeds, "\n"))
	f.Fuzz(func(t *testing.T, in string) {
		var out bytes.Buffer
		if err := filterJournal(strings.NewReader(in), &out, 3); err != nil {
			// Only an over-long line may stop the filter.
			if len(in) < 4<<20 {
				t.Fatalf("filterJournal: %v", err)
			}
			return
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if out.Len() == 0 {
			lines = nil
		}
		if len(lines) > 3 {
			t.Fatalf("%d lines kept, max 3", len(lines))
		}
		for _, l := range lines {
			var m map[string]json.RawMessage
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("kept line %q is not a JSON object: %v", l, err)
			}
			for k := range m {
				if !diagJournalFields[k] {
					t.Fatalf("kept field %q", k)
				}
			}
		}
	})
}

func BenchmarkFilterJournal(b *testing.B) {
	var in strings.Builder
	for i := range diagJournalLines {
		fmt.Fprintf(&in, `{"__REALTIME_TIMESTAMP":"%d","_PID":"812","_CMDLINE":"checkpointd","PRIORITY":"6","_SYSTEMD_UNIT":"checkpointd.service","MESSAGE":"{\"level\":\"INFO\",\"msg\":\"scanner connected\",\"port\":\"/dev/ttyUSB0\"}","_HOSTNAME":"desk-07"}`+"\n", 1764000000000000+i)
	}
	src := in.String()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if err := filterJournal(strings.NewReader(src), io.Discard, diagJournalLines); err != nil {
			b.Fatal(err)
		}
	}
}
