package watchlist

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// TestReadsFormat1Store: a store written by the code before record format 2
// (testdata/format1, made by the tree of main before this change) opens,
// authenticates and hashes to its state, answers person searches, and takes
// a delta with format-2 records.
func TestReadsFormat1Store(t *testing.T) {
	dir := t.TempDir()
	zf, err := os.Open(filepath.Join("testdata", "format1", "watchlist.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer zf.Close()
	zr, err := gzip.NewReader(zf)
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.OpenFile(filepath.Join(dir, "watchlist.db"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(db, zr); err != nil {
		t.Fatal(err)
	}
	db.Close()
	kek, err := os.ReadFile(filepath.Join("testdata", "format1", "store.kek"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kek"), kek, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "watchlist.db"), seal.FileKey{Path: filepath.Join(dir, "kek")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if m := s.Meta(); m.Sequence != 5 || m.Persons != 2 || m.Documents != 1 {
		t.Fatalf("meta %+v", m)
	}
	rep, err := s.Verify(context.Background())
	if err != nil || !rep.Consistent {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	hits, err := s.SearchPerson(match.PersonQuery{Surname: "IVANOV", GivenNames: []string{"SERGEI"}, Birth: match.Date{Year: 1975, Month: 4, Day: 12}, Nationality: "RUS", Sex: "M"}, 5)
	if err != nil || len(hits) == 0 || hits[0].Alert.ID != "RED-1" || hits[0].Score.Level != LevelHit {
		t.Fatalf("search on a format-1 store: %+v %v", hits, err)
	}
	hs, err := s.ScreenPerson(context.Background(), PersonQuery{Name: "ALHASSAN<<MUHAMMAD<ABDULRAHMAN", BirthDate: "1988-03-09", Nationality: "SYR"})
	if err != nil || len(hs) == 0 || hs[0].RefID != "FTF-7" {
		t.Fatalf("screen on a format-1 store: %+v %v", hs, err)
	}
	p := PersonAlert{ID: "UN-X", Name: Name{Surname: "KOWALCZYK", GivenNames: "Zbigniew"}, Births: []BirthDate{{Date: "1962"}, {From: 1960, To: 1964}},
		Category: "sanctions", Action: ActionRefer, Source: "UN", Lists: []ListReference{{List: "UN", Reference: "X"}}}
	FillMRZ(&p)
	meta := Meta{WatchlistID: "national", Sequence: 6, IssuedAt: s.Meta().IssuedAt}
	if err := s.ApplyDelta(context.Background(), meta, 5, &SliceSource{Changes: []Change{personPut(p), {Op: OpDelete, Kind: KindPerson, ID: "FTF-7"}}}); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.Verify(context.Background()); err != nil || !rep.Consistent || rep.Persons != 2 {
		t.Fatalf("after a format-2 delta: %+v %v", rep, err)
	}
}
