package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/web"
)

func TestOfficer(t *testing.T) {
	dir := t.TempDir()
	acc := filepath.Join(dir, "accounts.json")

	add := func(stdin string, args ...string) (string, string, int) {
		return runTech(t, stdin, nil, append([]string{"officer", "add", "--accounts", acc, "--pin-stdin"}, args...)...)
	}

	out, errOut, code := add("246810\n", "--id", "o1", "--name", "Anna Berg")
	if code != 0 || !strings.Contains(out, "officer o1 added") {
		t.Fatalf("add: exit %d\n%s%s", code, out, errOut)
	}
	if _, _, code := add("135790", "--id", "o2", "--name", "Jonas Lind"); code != 0 {
		t.Fatalf("add o2 without a final newline: exit %d", code)
	}
	st, err := os.Stat(acc)
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("accounts file: %v, mode %v; want 0640", err, st.Mode().Perm())
	}
	a, err := web.LoadAccounts(acc)
	if err != nil {
		t.Fatal(err)
	}
	if o, err := a.Check("o1", "246810"); err != nil || o.Name != "Anna Berg" {
		t.Errorf("Check(o1, right PIN) = %+v, %v", o, err)
	}
	if _, err := a.Check("o1", "135790"); !errors.Is(err, web.ErrBadCredentials) {
		t.Errorf("Check(o1, wrong PIN) = %v, want ErrBadCredentials", err)
	}
	raw, _ := os.ReadFile(acc)
	if strings.Contains(string(raw), "246810") {
		t.Error("the PIN is stored in clear")
	}

	t.Run("refused", func(t *testing.T) {
		before, _ := os.ReadFile(acc)
		for _, tc := range []struct {
			name, stdin string
			args        []string
			want        string
		}{
			{"short PIN", "12345\n", []string{"--id", "o3", "--name", "X"}, "PIN too short"},
			{"empty PIN", "\n", []string{"--id", "o3", "--name", "X"}, "no PIN"},
			{"bad id", "246810\n", []string{"--id", "o 3", "--name", "X"}, "--id"},
			{"no name", "246810\n", []string{"--id", "o3"}, "--name"},
			{"unknown language", "246810\n", []string{"--id", "o3", "--name", "X", "--lang", "de"}, "--lang"},
		} {
			_, errOut, code := add(tc.stdin, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.name, code, errOut, tc.want)
			}
		}
		// Without --pin-stdin the PIN must come from a terminal.
		_, errOut, code := runTech(t, "246810\n", nil, "officer", "add", "--accounts", acc, "--id", "o3", "--name", "X")
		if code != 2 || !strings.Contains(errOut, "not a terminal") {
			t.Errorf("no terminal: exit %d, stderr %q", code, errOut)
		}
		after, _ := os.ReadFile(acc)
		if string(before) != string(after) {
			t.Error("a refused add changed the accounts file")
		}
	})

	t.Run("language", func(t *testing.T) {
		if _, errOut, code := add("135790\n", "--id", "o2", "--name", "Jonas Lind", "--lang", "ar"); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		a, err := web.LoadAccounts(acc)
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := a.Check("o2", "135790"); o.Lang != "ar" {
			t.Fatalf("language %q, want ar", o.Lang)
		}
	})

	t.Run("replace", func(t *testing.T) {
		out, _, code := add("999888\n", "--id", "o2", "--name", "Jonas Lind-Ek")
		if code != 0 || !strings.Contains(out, "officer o2 replaced") {
			t.Fatalf("exit %d: %s", code, out)
		}
		a, err := web.LoadAccounts(acc)
		if err != nil {
			t.Fatal(err)
		}
		if o, err := a.Check("o2", "999888"); err != nil || o.Name != "Jonas Lind-Ek" || o.Lang != "ar" || len(a.Officers) != 2 {
			t.Errorf("after replace: %+v, %v, %d officers", o, err, len(a.Officers))
		}
	})

	t.Run("list", func(t *testing.T) {
		out, errOut, code := runTech(t, "", nil, "officer", "list", "--accounts", acc)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"ID", "NAME", "LANGUAGE", "o1", "Anna Berg", "o2", "Jonas Lind-Ek", "ar"} {
			if !strings.Contains(out, want) {
				t.Errorf("list lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "argon2") {
			t.Errorf("list shows PIN hashes:\n%s", out)
		}
		out, _, _ = runTech(t, "", nil, "officer", "list", "--accounts", acc, "--json")
		var ids []string
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var o map[string]string
			if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
				t.Fatalf("%v: %q", err, sc.Text())
			}
			if _, hash := o["pin_hash"]; hash || o["name"] == "" || (o["id"] == "o2") != (o["lang"] == "ar") {
				t.Errorf("JSON line %v: want id, name and the language set, no hash", o)
			}
			ids = append(ids, o["id"])
		}
		if strings.Join(ids, ",") != "o1,o2" {
			t.Errorf("ids %v", ids)
		}
	})

	t.Run("remove", func(t *testing.T) {
		out, errOut, code := runTech(t, "", nil, "officer", "remove", "--accounts", acc, "--id", "o1")
		if code != 0 || !strings.Contains(out, "officer o1 removed") {
			t.Fatalf("exit %d: %s%s", code, out, errOut)
		}
		a, err := web.LoadAccounts(acc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Check("o1", "246810"); err == nil || len(a.Officers) != 1 {
			t.Errorf("o1 still signs in, or o2 lost: %d officers", len(a.Officers))
		}
		_, errOut, code = runTech(t, "", nil, "officer", "remove", "--accounts", acc, "--id", "o1")
		if code != 1 || !strings.Contains(errOut, `no officer "o1"`) {
			t.Errorf("remove unknown: exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("accounts from config", func(t *testing.T) {
		cdir := t.TempDir()
		cfg := writeMinimalConfig(t, cdir, "")
		if _, errOut, code := runTech(t, "112233\n", nil, "officer", "add", "--config", cfg, "--id", "o9", "--name", "Eva", "--pin-stdin"); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		a, err := web.LoadAccounts(filepath.Join(cdir, "accounts.json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Check("o9", "112233"); err != nil {
			t.Error(err)
		}
	})
}

// signinBackend is the least of a lane the sign-in socket needs.
type signinBackend struct{ *lane.Broker }

func (signinBackend) Recent(int) []lane.Transaction            { return nil }
func (signinBackend) Transaction(string) *lane.Transaction     { return nil }
func (signinBackend) Health() lane.Health                      { return lane.Health{} }
func (signinBackend) Pending() []lane.Transaction              { return nil }
func (signinBackend) History(lane.HistoryQuery) []lane.Summary { return nil }
func (signinBackend) Record(context.Context, lane.VerdictRequest) (*lane.Transaction, error) {
	return nil, lane.ErrUnknownTransaction
}

// TestOfficerSignIn maps an officer to the OS user running the tests and
// signs in through a real sign-in socket, as a kiosk session would.
func TestOfficerSignIn(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := shortTempDir(t)
	acc := filepath.Join(dir, "accounts.json")
	if _, errOut, code := runTech(t, "246810\n", nil, "officer", "add", "--accounts", acc, "--pin-stdin", "--id", "o1", "--name", "Anna Berg", "--os-user", me.Username); code != 0 {
		t.Fatalf("add --os-user: exit %d: %s", code, errOut)
	}
	if out, _, _ := runTech(t, "", nil, "officer", "list", "--accounts", acc); !strings.Contains(out, "o1  Anna Berg  "+me.Username) {
		t.Fatalf("list does not show the OS user:\n%s", out)
	}
	if _, errOut, code := runTech(t, "246810\n", nil, "officer", "add", "--accounts", acc, "--pin-stdin", "--id", "o2", "--name", "X", "--os-user", "bad user"); code != 2 || !strings.Contains(errOut, "not a user name") {
		t.Fatalf("bad --os-user: exit %d %q", code, errOut)
	}

	sock := filepath.Join(dir, "signin.sock")
	if _, errOut, code := runTech(t, "", nil, "officer", "signin", "--socket", sock); code != exitSignInDown || !strings.Contains(errOut, "is checkpointd running") {
		t.Fatalf("no daemon: exit %d %q", code, errOut)
	}
	accounts, err := web.LoadAccounts(acc)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(sock string, a *web.Accounts) {
		page := web.New(signinBackend{lane.NewBroker()}, web.Options{Accounts: a})
		ln, err := web.ListenSignIn(sock)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: page.SignInHandler("http://127.0.0.1:8080"), ConnContext: web.PeerContext}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	}
	serve(sock, accounts)
	unmapped := *accounts
	unmapped.Officers = []web.Officer{accounts.Officers[0]}
	unmapped.Officers[0].OSUser = ""
	other := filepath.Join(dir, "other.sock")
	serve(other, &unmapped)

	out, errOut, code := runTech(t, "", nil, "officer", "signin", "--socket", sock)
	if code != 0 || !strings.HasPrefix(out, "http://127.0.0.1:8080/login/ticket?t=") || !strings.Contains(errOut, "signed in as officer o1") {
		t.Fatalf("signin: exit %d\n%s%s", code, out, errOut)
	}
	// A unit where no officer is mapped to this OS user refuses.
	if _, errOut, code := runTech(t, "", nil, "officer", "signin", "--socket", other); code != exitSignInRefused || !strings.Contains(errOut, "is not an officer") {
		t.Fatalf("unmapped: exit %d %q", code, errOut)
	}
}
