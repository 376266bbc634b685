package edifact

import (
	"errors"
	"strings"
	"testing"
)

// msg is a small PAXLST-like message body between UNH and UNT.
const body = "BGM+745'NAD+FL+++DOE:JOHN'DTM+329:800312'"

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, ic *Interchange)
	}{
		{"UNA, one segment per line", "UNA:+.? '\nUNB+UNOA:4+SENDER:ZZ+RECV:ZZ+240101:1200+REF1++APIS'\nUNH+M1+PAXLST:D:05B:UN:IATA'\nBGM+745'\nNAD+FL+++O?'BRIEN:MARY?+ANN'\nUNT+4+M1'\nUNZ+1+REF1'\n",
			func(t *testing.T, ic *Interchange) {
				m := one(t, ic)
				if !ic.HasUNA || ic.Syntax != "UNOA" || ic.SyntaxVersion != 4 || ic.Sender != "SENDER" || ic.Reference != "REF1" {
					t.Fatalf("envelope %+v", ic)
				}
				if m.Type != "PAXLST" || m.Directory() != "D05B" || m.Agency != "UN" || m.Association != "IATA" {
					t.Fatalf("message %+v", m)
				}
				nad := m.Segments[2]
				if nad.Get(3, 0) != "O'BRIEN" || nad.Get(3, 1) != "MARY+ANN" || nad.Get(0, 0) != "FL" || nad.Get(1, 0) != "" {
					t.Fatalf("release characters: %q", nad.Elements)
				}
			}},
		{"no UNA, all on one line, syntax 3", "UNB+UNOA:3+S+R+240101:1200+R2'UNH+1+PAXLST:D:02B:UN:IATA'" + body + "UNT+5+1'UNZ+1+R2'",
			func(t *testing.T, ic *Interchange) {
				m := one(t, ic)
				if ic.HasUNA || ic.Delimiters.Repetition != 0 || m.Directory() != "D02B" || m.Segments[3].Get(0, 1) != "800312" {
					t.Fatalf("%+v %+v", ic, m)
				}
			}},
		{"custom separators from UNA", "UNA^|.\\ ~UNB|UNOA^3|S|R|240101^1200|R3~UNH|1|PAXLST^D^05B^UN^IATA~NAD|FL|||SMITH\\~JONES^ANNA~UNT|3|1~UNZ|1|R3~",
			func(t *testing.T, ic *Interchange) {
				m := one(t, ic)
				if n := m.Segments[1]; n.Get(3, 0) != "SMITH~JONES" || n.Get(3, 1) != "ANNA" {
					t.Fatalf("custom delimiters: %q", n.Elements)
				}
			}},
		{"repetition separator in syntax 4", "UNA:+.?*'UNB+UNOA:4+S+R+240101:1200+R4'UNH+1+PNRGOV:11:1:IA'SSR+SEAT:HK:2:DL:::LHR:JFK+15A::1*15B::2'UNT+3+1'UNZ+1+R4'",
			func(t *testing.T, ic *Interchange) {
				m := one(t, ic)
				reps := m.Segments[1].Repetitions(1)
				if len(reps) != 2 || reps[0][0] != "15A" || reps[1][0] != "15B" || reps[1][2] != "2" || m.Directory() != "11.1" {
					t.Fatalf("repetitions %q", m.Segments[1].Elements)
				}
			}},
		{"syntax 4 without UNA uses *", "UNB+UNOA:4+S+R+240101:1200+R5'UNH+1+X:D:05B:UN'ABC+A*B'UNT+3+1'UNZ+1+R5'",
			func(t *testing.T, ic *Interchange) {
				if r := one(t, ic).Segments[1].Repetitions(0); len(r) != 2 {
					t.Fatalf("repetitions %q", r)
				}
			}},
		{"CRLF after terminators and inside a wrapped segment", "UNB+UNOA:4+S+R+240101:1200+R6'\r\nUNH+1+PAXLST:D:05B:UN:IATA'\r\nNAD+FL+++VERYLONGSURN\r\nAME:GIVEN'\r\nUNT+3+1'\r\nUNZ+1+R6'\r\n",
			func(t *testing.T, ic *Interchange) {
				if n := one(t, ic).Segments[1]; n.Get(3, 0) != "VERYLONGSURNAME" {
					t.Fatalf("wrapped: %q", n.Elements)
				}
			}},
		{"functional group", "UNB+UNOA:4+S+R+240101:1200+R7'UNG+PAXLST+S+R+240101:1200+G1+UN+D:05B'UNH+1+PAXLST:D:05B:UN:IATA'BGM+745'UNT+3+1'UNH+2+PAXLST:D:05B:UN:IATA'BGM+250'UNT+3+2'UNE+2+G1'UNZ+1+R7'",
			func(t *testing.T, ic *Interchange) {
				if len(ic.Messages) != 2 || len(ic.Errors) != 0 || ic.Messages[1].Group != "G1" || ic.Messages[1].Err != nil {
					t.Fatalf("%d messages, errors %v", len(ic.Messages), ic.Errors)
				}
			}},
		{"Latin-1 under UNOC", "UNB+UNOC:3+S+R+240101:1200+R8'UNH+1+PAXLST:D:05B:UN:IATA'NAD+FL+++M\xdcLLER:J\xd6RG'UNT+3+1'UNZ+1+R8'",
			func(t *testing.T, ic *Interchange) {
				if n := one(t, ic).Segments[1]; n.Get(3, 0) != "MÜLLER" || n.Get(3, 1) != "JÖRG" {
					t.Fatalf("latin-1: %q", n.Elements)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ic, err := Parse([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, ic)
		})
	}
}

func one(t *testing.T, ic *Interchange) *Message {
	t.Helper()
	if len(ic.Errors) != 0 {
		t.Fatalf("envelope errors: %v", ic.Errors)
	}
	if len(ic.Messages) != 1 || ic.Messages[0].Err != nil {
		t.Fatalf("messages: %d, err %v", len(ic.Messages), ic.Messages[0].Err)
	}
	return ic.Messages[0]
}

// TestBadInput checks that each kind of damage is reported with the
// message, the segment number and the reason, and spares the other
// messages.
func TestBadInput(t *testing.T) {
	good := func(ref string) string { return "UNH+" + ref + "+PAXLST:D:05B:UN:IATA'" + body + "UNT+5+" + ref + "'" }
	tests := []struct {
		name     string
		in       string
		msgErr   map[string]string // message ref -> error substring
		envErr   string
		goodMsgs int
	}{
		{"wrong UNT count", "UNB+UNOA:4+S+R+1:1+R'" + good("A") + "UNH+B+PAXLST:D:05B:UN:IATA'" + body + "UNT+9+B'" + good("C") + "UNZ+3+R'",
			map[string]string{"B": "message B, segment 5 (UNT): UNT counts 9 segments, the message has 5"}, "", 2},
		{"UNT reference", "UNB+UNOA:4+S+R+1:1+R'UNH+B+PAXLST:D:05B:UN:IATA'" + body + "UNT+5+X'" + good("C") + "UNZ+2+R'",
			map[string]string{"B": `UNT reference "X" does not match UNH "B"`}, "", 1},
		{"wrong UNZ count", "UNB+UNOA:4+S+R+1:1+R'" + good("A") + "UNZ+2+R'", nil, `UNZ counts "2", the interchange has 1 messages`, 1},
		{"UNZ reference", "UNB+UNOA:4+S+R+1:1+R'" + good("A") + "UNZ+1+Q'", nil, `UNZ reference "Q" does not match UNB "R"`, 1},
		{"wrong UNE count", "UNB+UNOA:4+S+R+1:1+R'UNG+PAXLST+S+R+1:1+G+UN+D:05B'" + good("A") + "UNE+3+G'UNZ+1+R'", nil, `UNE counts "3" messages, group "G" has 1`, 1},
		{"truncated interchange", "UNB+UNOA:4+S+R+1:1+R'" + good("A") + "UNH+B+PAXLST:D:05B:UN:IATA'BGM+745'NAD+FL+++DO",
			map[string]string{"B": "message B, segment 3 (NAD): data ends inside the segment"}, "interchange truncated", 1},
		{"no UNT before the next UNH", "UNB+UNOA:4+S+R+1:1+R'UNH+B+PAXLST:D:05B:UN:IATA'" + body + good("C") + "UNZ+2+R'",
			map[string]string{"B": "no UNT before the next UNH"}, "", 1},
		{"release character at the end", "UNB+UNOA:4+S+R+1:1+R'" + good("A") + "UNH+B+PAXLST:D:05B:UN:IATA'NAD+FL+++DOE?",
			map[string]string{"B": "segment 2"}, "interchange truncated", 1},
		{"binary garbage in a message", "UNB+UNOA:4+S+R+1:1+R'UNH+B+PAXLST:D:05B:UN:IATA'NAD+FL+++\x00\x01\xff\xfe'UNT+3+B'" + good("C") + "UNZ+2+R'",
			map[string]string{"B": "message B, segment 2 (NAD): control character 0x00"}, "", 1},
		{"bad tag", "UNB+UNOA:4+S+R+1:1+R'UNH+B+PAXLST:D:05B:UN:IATA'nad+FL'UNT+3+B'UNZ+1+R'",
			map[string]string{"B": `bad segment tag (not a tag)`}, "", 0},
		{"segment outside a message", "UNB+UNOA:4+S+R+1:1+R'BGM+745'" + good("A") + "UNZ+1+R'", nil, "segment 2 (BGM): segment outside any message", 1},
		{"data after UNZ", "UNB+UNOA:4+S+R+1:1+R'" + good("A") + "UNZ+1+R'UNH+X'", nil, "data after UNZ", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ic, err := Parse([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			ok := 0
			for _, m := range ic.Messages {
				want, bad := tc.msgErr[m.Reference]
				switch {
				case bad && (m.Err == nil || !strings.Contains(m.Err.Error(), want)):
					t.Errorf("message %s: err %v, want %q", m.Reference, m.Err, want)
				case bad && !errors.Is(m.Err, ErrSyntax):
					t.Errorf("message %s: not ErrSyntax", m.Reference)
				case !bad && m.Err != nil:
					t.Errorf("message %s: unexpected %v", m.Reference, m.Err)
				case !bad:
					ok++
				}
			}
			if ok != tc.goodMsgs {
				t.Errorf("%d good messages, want %d", ok, tc.goodMsgs)
			}
			var env []string
			for _, e := range ic.Errors {
				env = append(env, e.Error())
			}
			if got := strings.Join(env, "; "); (tc.envErr == "") != (got == "") || !strings.Contains(got, tc.envErr) {
				t.Errorf("envelope errors %q, want %q", got, tc.envErr)
			}
		})
	}
}

func TestNotAnInterchange(t *testing.T) {
	for _, in := range []string{"", "   \n", "hello world", "UNA:+", "UNA:+.? 'BGM+745'", "\x00\x01\x02binary", "UNAAAAAAA'UNB+X'",
		"UNB+UNOA:4+S+R+1:1+R\x00'"} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrNoInterchange) {
			t.Errorf("%q: err %v, want ErrNoInterchange", in, err)
		}
	}
	if _, err := Parse(make([]byte, MaxInterchangeSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
}

func TestLimits(t *testing.T) {
	long := "UNB+UNOA:4+S+R+1:1+R'UNH+A+PAXLST:D:05B:UN:IATA'FTX+" + strings.Repeat("X", MaxSegmentSize+10) + "'UNT+3+A'UNH+B+PAXLST:D:05B:UN:IATA'BGM+745'UNT+3+B'UNZ+2+R'"
	ic, err := Parse([]byte(long))
	if err != nil {
		t.Fatal(err)
	}
	if len(ic.Messages) != 2 || ic.Messages[0].Err == nil || !strings.Contains(ic.Messages[0].Err.Error(), "longer than") || ic.Messages[1].Err != nil {
		t.Fatalf("long segment: %+v", ic.Messages)
	}
	many := "UNB+UNOA:4+S+R+1:1+R'UNH+A+PAXLST:D:05B:UN:IATA'FTX" + strings.Repeat("+x", MaxElements+1) + "'UNT+3+A'UNZ+1+R'"
	if ic, _ := Parse([]byte(many)); ic.Messages[0].Err == nil || !strings.Contains(ic.Messages[0].Err.Error(), "data elements") {
		t.Fatalf("many elements: %v", ic.Messages[0].Err)
	}
}

// FuzzTokenize feeds arbitrary bytes to Parse: no panic, bounded output,
// and every message either parsed or carrying an error with a segment
// number within it.
func FuzzTokenize(f *testing.F) {
	f.Add([]byte("UNA:+.? 'UNB+UNOA:4+S+R+1:1+R'UNH+A+PAXLST:D:05B:UN:IATA'" + body + "UNT+5+A'UNZ+1+R'"))
	f.Add([]byte("UNA^|.\\ ~UNB|UNOA^3|S|R|1^1|R~UNH|1|X^D^05B~A|B\\~~UNT|3|1~UNZ|1|R~"))
	f.Add([]byte("UNB+UNOA:4+S+R+1:1+R'UNG+PAXLST+S+R+1:1+G+UN+D:05B'UNH+1+X'B?'*C'UNT+3+1'UNE+1+G'UNZ+1+R'"))
	f.Add([]byte("UNB+UNOC:3+S+R+1:1+R'UNH+1+X'NAD+\xff\x00?"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ic, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrNoInterchange) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		segs := 0
		for _, m := range ic.Messages {
			segs += len(m.Segments)
			if m.Err != nil && (m.Err.Segment < 0 || m.Err.Segment > len(m.Segments)) {
				t.Fatalf("error names segment %d of %d", m.Err.Segment, len(m.Segments))
			}
			for _, s := range m.Segments {
				if len(s.Elements) > MaxElements {
					t.Fatalf("%d elements", len(s.Elements))
				}
			}
		}
		if segs > len(b) {
			t.Fatalf("%d segments from %d bytes", segs, len(b))
		}
	})
}
