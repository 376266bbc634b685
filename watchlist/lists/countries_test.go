package lists

import "testing"

func TestCountryTable(t *testing.T) {
	if err := countryTableErr(); err != nil {
		t.Fatal(err)
	}
}
