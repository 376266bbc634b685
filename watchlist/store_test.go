package watchlist

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

var fixtureDocs = []DocumentAlert{
	{ID: "SLTD-1", IssuingState: "DEU", DocumentType: "P", Number: "C01X00T47", Status: "stolen", Source: "SLTD", Action: ActionRefer},
	{ID: "SLTD-2", IssuingState: "GBR", DocumentType: "P", Number: "925076473", Status: "lost", Source: "SLTD", Action: ActionAlertOnly},
	{ID: "SLTD-3", IssuingState: "FRA", DocumentType: "I", Number: "X4RTBPFW4XYZ", Status: "stolen", Source: "national", Action: ActionArrest}, // TD1 long number
	{ID: "SLTD-4", IssuingState: "NLD", Number: "SPECI2014", Status: "revoked", Source: "SLTD", Action: ActionRefer},                           // no type
	{ID: "SLTD-5", IssuingState: "UTO", DocumentType: "V", Number: "B0S5Z8I1O", Status: "stolen", Source: "SLTD", Action: ActionRefer},
}

var fixturePersons = []PersonAlert{
	{ID: "RED-1", Name: Name{Surname: "Иванов", GivenNames: "Сергей Петрович"}, Birth: "1975-04-12", Nationality: "RUS", Sex: "M", Category: "wanted", Action: ActionArrest, Source: "interpol_red"},
	{ID: "FTF-7", Name: Name{Surname: "AL-HASSAN", GivenNames: "MOHAMMED ABDUL RAHMAN"}, Aliases: []Name{{Surname: "HASSAN", GivenNames: "MUHAMMAD"}}, Birth: "1988", Nationality: "SYR", Sex: "M", Category: "foreign_terrorist_fighter", Action: ActionDiscreetCheck, Source: "national"},
	{ID: "MIS-3", Name: Name{Surname: "Müller", GivenNames: "Jürgen"}, Birth: "1961-11", Nationality: "DEU", Sex: "M", Category: "missing", Action: ActionAlertOnly, Source: "interpol_yellow"},
	{ID: "REF-9", Name: Name{Surname: "Παπαδόπουλος", GivenNames: "Ελένη"}, Birth: "1990-02-28", Nationality: "GRC", Sex: "F", Category: "refused_entry", Action: ActionRefer, Source: "eu_sis"},
}

func fixtureChanges() []Change {
	var cs []Change
	for _, d := range fixtureDocs {
		cs = append(cs, docPut(d))
	}
	for _, p := range fixturePersons {
		cs = append(cs, personPut(p))
	}
	return cs
}

func TestReplaceAllAndLookup(t *testing.T) {
	s := MustOpen(t)
	if m := s.Meta(); m.Sequence != 0 || !m.Stale(m.IssuedAt, 0) {
		t.Fatalf("empty store meta = %+v", m)
	}
	cs := fixtureChanges()
	mustReplace(t, s.Store, 1, cs...)
	m := s.Meta()
	if m.Sequence != 1 || m.Documents != int64(len(fixtureDocs)) || m.Persons != int64(len(fixturePersons)) {
		t.Fatalf("meta = %+v", m)
	}
	if m.StateHash != hashOf(t, cs) {
		t.Fatalf("state hash %s, independent %s", m.StateHash, hashOf(t, cs))
	}
	tests := []struct {
		name                string
		state, number, typ  string
		wantID, wantVariant string
	}{
		{"exact", "DEU", "C01X00T47", "P", "SLTD-1", ""},
		{"mrz state code D", "D<<", "C01X00T47", "P", "SLTD-1", ""},
		{"lower case and filler", "deu", "c01x00t47<", "", "SLTD-1", ""},
		{"ocr O for 0", "DEU", "CO1X00T47", "P", "SLTD-1", "C01X00T47"},
		{"ocr two confusions", "DEU", "CO1XO0T47", "P", "SLTD-1", "C01X00T47"},
		{"ocr I for 1", "GBR", "9250764I3", "P", "", ""}, // 7→I is no OCR pair: miss
		{"ocr S for 5 and B for 8", "UTO", "BOS5Z8I1O", "V", "SLTD-5", "B0S5Z8I1O"},
		{"td1 long number", "FRA", "X4RTBPFW4XYZ", "ID", "SLTD-3", ""},
		{"td1 long number truncated to 9", "FRA", "X4RTBPFW4", "I", "", ""},
		{"type family mismatch", "DEU", "C01X00T47", "I", "", ""},
		{"untyped alert matches any type", "NLD", "SPECI2014", "P", "SLTD-4", ""},
		{"other state", "AUT", "C01X00T47", "P", "", ""},
		{"unknown number", "GBR", "123456789", "P", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := s.LookupDocument(tc.state, tc.number, tc.typ)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantID == "" {
				if len(hits) != 0 {
					t.Fatalf("hits = %+v, want none", hits)
				}
				return
			}
			if len(hits) != 1 || hits[0].Alert.ID != tc.wantID {
				t.Fatalf("hits = %+v, want %s", hits, tc.wantID)
			}
			if tc.wantVariant == "" && len(hits[0].Changes) != 0 || tc.wantVariant != "" && (hits[0].Variant != tc.wantVariant || len(hits[0].Changes) == 0) {
				t.Fatalf("variant = %q %v, want %q", hits[0].Variant, hits[0].Changes, tc.wantVariant)
			}
		})
	}
	if _, err := s.LookupDocument("", "X", ""); !errors.Is(err, ErrBadQuery) {
		t.Fatalf("empty state: %v", err)
	}

	// The version survives a reopen, with its counts.
	s.Reopen(t, Options{})
	if got := s.Meta(); got.Sequence != 1 || got.StateHash != m.StateHash {
		t.Fatalf("after reopen meta = %+v", got)
	}
	rep, err := s.Verify(context.Background())
	if err != nil || !rep.Consistent || rep.Documents != 5 || rep.Persons != 4 {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
}

func TestReplaceAllRefusals(t *testing.T) {
	s := MustOpen(t)
	cs := fixtureChanges()
	mustReplace(t, s.Store, 5, cs...)
	ctx := context.Background()
	dup := append(fixtureChanges(), docPut(fixtureDocs[0]))
	tests := []struct {
		name    string
		meta    Meta
		changes []Change
		want    error
	}{
		{"older sequence", testMeta(4), cs, ErrNotNewer},
		{"same sequence", testMeta(5), cs, ErrNotNewer},
		{"state hash mismatch", func() Meta { m := testMeta(6); m.StateHash = hashOf(t, cs[1:]); return m }(), cs, ErrStateMismatch},
		{"duplicate id", testMeta(6), dup, ErrBadRecord},
		{"delete in snapshot", testMeta(6), []Change{{Op: OpDelete, Kind: KindDocument, ID: "SLTD-1"}}, ErrBadRecord},
		{"face of another model", testMeta(6), []Change{personPut(PersonAlert{ID: "X", Name: Name{Surname: "DOE"}, Category: "wanted", Faces: []FaceTemplate{{ID: "f", ModelID: "other", Vector: make([]float32, FaceDim)}}})}, ErrModelMismatch},
		{"document without number", testMeta(6), []Change{docPut(DocumentAlert{ID: "Y", IssuingState: "DEU"})}, ErrBadRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ReplaceAll(ctx, tc.meta, &SliceSource{Changes: tc.changes})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if m := s.Meta(); m.Sequence != 5 || m.StateHash != hashOf(t, cs) {
				t.Fatalf("installed version changed: %+v", m)
			}
			if hits, _ := s.LookupDocument("DEU", "C01X00T47", "P"); len(hits) != 1 {
				t.Fatalf("old version no longer served")
			}
		})
	}
	// Nothing of the failed attempts is left in the file.
	n, err := s.entryCounts()
	if err != nil || n["d"] != len(fixtureDocs) || n["i"] != len(fixtureDocs) || n["p"] != len(fixturePersons) {
		t.Fatalf("entries = %v, %v", n, err)
	}
}

func TestNoPlaintextInFile(t *testing.T) {
	s := MustOpen(t)
	mustReplace(t, s.Store, 1, fixtureChanges()...)
	path := s.Path
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, d := range fixtureDocs {
		secrets = append(secrets, d.ID, d.Number)
	}
	for _, p := range fixturePersons {
		secrets = append(secrets, p.ID, p.Name.Surname, p.Name.GivenNames, p.Birth)
		for _, n := range personNames(&p) {
			secrets = append(secrets, match.NameTokens(n.Surname)...)
		}
		FillMRZ(&p)
		secrets = append(secrets, p.Name.MRZ...)
	}
	secrets = append(secrets, "stolen", "interpol_red", "foreign_terrorist_fighter")
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		if bytes.Contains(raw, []byte(sec)) {
			t.Errorf("plaintext %q found in the store file", sec)
		}
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("store mode %v, want 0600", st.Mode().Perm())
	}
}

func TestWrongKeyAndRotation(t *testing.T) {
	s := MustOpen(t)
	mustReplace(t, s.Store, 1, fixtureChanges()...)
	oldKey := s.Key
	newKey := testKey(t)
	if err := s.RotateKEK(newKey); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(s.Path, oldKey, Options{}); !errors.Is(err, ErrWrongKey) || !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("old key after rotation: err = %v, want ErrWrongKey", err)
	}
	if _, err := Open(s.Path, testKey(t), Options{}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("unrelated key: err = %v", err)
	}
	s2, err := Open(s.Path, newKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if hits, err := s2.LookupDocument("GBR", "925076473", "P"); err != nil || len(hits) != 1 {
		t.Fatalf("after rotation: %v %v", hits, err)
	}
}

func TestKeyFilePermissions(t *testing.T) {
	kp := testKey(t).(seal.FileKey)
	if err := os.Chmod(kp.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.TempDir()+"/w.db", kp, Options{})
	if !errors.Is(err, seal.ErrKeyPermissions) {
		t.Fatalf("world-readable key: err = %v", err)
	}
}

func TestCloseIdempotent(t *testing.T) {
	s := MustOpen(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupDocument("DEU", "X", ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}
