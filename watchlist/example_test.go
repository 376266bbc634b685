package watchlist_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// A store is opened with a key provider, filled by a full snapshot and
// asked about a traveller.
func Example() {
	dir, _ := os.MkdirTemp("", "watchlist-example-*")
	defer os.RemoveAll(dir)
	key := filepath.Join(dir, "watchlist.kek")
	seal.GenerateKeyFile(key) // 0600; in production: credential:watchlist.kek

	s, err := watchlist.Open(filepath.Join(dir, "watchlist.db"), seal.FileKey{Path: key}, watchlist.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	stolen := watchlist.DocumentAlert{ID: "SLTD-1", IssuingState: "DEU", DocumentType: "P", Number: "C01X00T47",
		Status: "stolen", Source: "SLTD", Action: watchlist.ActionRefer}
	err = s.ReplaceAll(context.Background(),
		watchlist.Meta{WatchlistID: "demo", Sequence: 1, IssuedAt: time.Now(), ExpiresAt: time.Now().Add(48 * time.Hour)},
		&watchlist.SliceSource{Changes: []watchlist.Change{{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: stolen.ID, Document: &stolen}}})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The MRZ was read with an O instead of a 0: the lookup undoes it.
	res, err := s.Check(context.Background(), watchlist.Query{Document: &mrz.Document{
		DocumentCode: "P", IssuingState: "D", DocumentNumber: "CO1X00T47", Surname: "MUSTERMANN", GivenNames: []string{"ERIKA"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range res.Hits {
		fmt.Println(h.Kind, h.RefID, h.Action, h.Variant)
	}
	// Output: document SLTD-1 refer C01X00T47
}

// ScreenPerson screens a traveller known only from a passenger list (API
// or PNR): name, date of birth, nationality, sex and document. Possible
// matches come back at LevelPossible for an officer to judge.
func ExampleStore_ScreenPerson() {
	dir, _ := os.MkdirTemp("", "watchlist-example-*")
	defer os.RemoveAll(dir)
	key := filepath.Join(dir, "watchlist.kek")
	seal.GenerateKeyFile(key)
	s, err := watchlist.Open(filepath.Join(dir, "watchlist.db"), seal.FileKey{Path: key}, watchlist.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	listed := watchlist.PersonAlert{ID: "UN-QDi.015", Name: watchlist.Name{Surname: "AL-WALID", GivenNames: "MAHFOUZ OULD"},
		Aliases:  []watchlist.Name{{Surname: "AL-SHANQITI", GivenNames: "KHALID", Quality: watchlist.QualityStrong}},
		Births:   []watchlist.BirthDate{{Date: "1975-01-01"}, {Date: "1973", Approx: 2}},
		Category: "sanctions", Action: watchlist.ActionRefer, Source: "UN"}
	watchlist.FillMRZ(&listed)
	err = s.ReplaceAll(context.Background(), watchlist.Meta{WatchlistID: "demo", Sequence: 1, IssuedAt: time.Now()},
		&watchlist.SliceSource{Changes: []watchlist.Change{{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: listed.ID, Person: &listed}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	hits, err := s.ScreenPerson(context.Background(), watchlist.PersonQuery{
		Name: "AL<SHANQITI<<KHALID", BirthDate: "1974-06-30", Nationality: "MRT", Sex: "M"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range hits {
		fmt.Println(h.Kind, h.RefID, h.LevelOrHit(), h.Person.MatchedAs, h.Fields[1].Agreement)
	}
	// Output: person UN-QDi.015 hit alias approximate
}
