package pa

import (
	"strings"

	"golang.org/x/text/language"
)

// Alpha2 maps an MRZ issuing-state code (ISO 3166-1 alpha-3, or ICAO's
// "D" for Germany) to the alpha-2 code certificates carry; "" when there
// is none (organisations, Utopia specimens), in which case the state is
// not compared.
func Alpha2(mrzCode string) string {
	c := strings.ToUpper(strings.TrimRight(mrzCode, "<"))
	if c == "D" {
		return "DE"
	}
	if len(c) != 3 {
		return ""
	}
	r, err := language.ParseRegion(c)
	if err != nil || !r.IsCountry() {
		return ""
	}
	return r.String()
}
