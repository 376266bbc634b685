package match

import "testing"

func BenchmarkScorePerson(b *testing.B) {
	cfg := DefaultConfig()
	q := PersonQuery{Surname: "AL RASHID", GivenNames: []string{"MOHAMED", "ABDULRAHMAN"},
		Birth: Date{1980, 12, 3}, Nationality: "SYR", Sex: "M"}
	cases := []struct {
		name string
		r    PersonRecord
		hit  bool
	}{
		{"hit-3-names", PersonRecord{
			Names: []FullName{
				{Surname: "ALRASHID", GivenNames: []string{"MUHAMMAD", "ABDUL", "RAHMAN"}},
				{Surname: "RASHID", GivenNames: []string{"MOHAMMAD"}},
				{Surname: "ELRACHID", GivenNames: []string{"MOHAMED", "ABDERRAHMANE"}},
			},
			Birth: Date{1980, 3, 12}, Nationality: "SYR", Sex: "M",
		}, true},
		// The common case for the store: a candidate that shares a key
		// but is someone else.
		{"reject-1-name", PersonRecord{
			Names: []FullName{{Surname: "HADDAD", GivenNames: []string{"MOHAMMED", "KARIM"}}},
			Birth: Date{1975, 0, 0}, Nationality: "LBN", Sex: "M",
		}, false},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if s := ScorePerson(q, tc.r, cfg); s.Hit != tc.hit {
					b.Fatal(s.Explanation)
				}
			}
		})
	}
}

func BenchmarkIndexKeys(b *testing.B) {
	n := FullName{Surname: "ALRASHID", GivenNames: []string{"MUHAMMAD", "ABDUL", "RAHMAN"}}
	var keys int
	b.ReportAllocs()
	for b.Loop() {
		keys = len(IndexKeys(n))
	}
	b.ReportMetric(float64(keys), "keys/name")
}

func BenchmarkQueryKeys(b *testing.B) {
	q := PersonQuery{Surname: "GAGARIN", GivenNames: []string{"YURIY", "ALEKSEYEVICH"}}
	var keys int
	b.ReportAllocs()
	for b.Loop() {
		keys = len(QueryKeys(q))
	}
	b.ReportMetric(float64(keys), "keys/name")
}
