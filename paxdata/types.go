package paxdata

import (
	"log/slog"
	"strings"
	"time"
)

// Roles of a traveller on a flight.
const (
	RolePassenger = "passenger"
	RoleCrew      = "crew"
)

// Traveller is one person in an API or PNR message, as far as screening
// needs: names, birth date, sex, nationality, the travel document, where
// they board and leave. It is personal data: never log it (LogValue keeps
// it out of logs even when logged whole).
type Traveller struct {
	Role        string `json:"role"`                  // passenger, crew
	Qualifier   string `json:"qualifier"`             // the NAD party qualifier (FL, FM, DDT, …) or "TIF"
	Surname     string `json:"surname"`               // upper case as sent
	GivenNames  string `json:"given_names"`           // space separated
	BirthDate   string `json:"birth_date"`            // YYYY-MM-DD, YYYY-MM or YYYY; "" unknown
	Sex         string `json:"sex,omitempty"`         // M, F, X; "" unknown
	Nationality string `json:"nationality,omitempty"` // ISO 3166-1 alpha-3
	Residence   string `json:"residence,omitempty"`
	// DocumentType is the ICAO/UN code: P passport, I/ID identity card,
	// V visa, …; DocumentNumber and IssuingState identify the document.
	DocumentType   string `json:"document_type,omitempty"`
	DocumentNumber string `json:"document_number,omitempty"`
	IssuingState   string `json:"issuing_state,omitempty"`
	DocumentExpiry string `json:"document_expiry,omitempty"` // YYYY-MM-DD
	Embarkation    string `json:"embarkation,omitempty"`     // IATA airport
	Debarkation    string `json:"debarkation,omitempty"`
	Seat           string `json:"seat,omitempty"`
	// BookingRef is the PNR record locator. It never leaves headquarters
	// in an alert and is never logged.
	BookingRef string `json:"booking_ref,omitempty"`
	// OtherDocuments are further documents (a visa, a second passport);
	// screening checks them too.
	OtherDocuments []Document `json:"other_documents,omitempty"`
	// InTransit is set when the traveller does not enter at the arrival
	// port (LOC+22 or a later debarkation).
	InTransit bool `json:"in_transit,omitempty"`
	// Source is where the document data came from: "API" (checked at
	// check-in), "DOCS" (given at booking, PNR SSR DOCS).
	Source string `json:"source,omitempty"`
}

// LogValue keeps personal data out of logs: only role and whether a
// document is known.
func (t Traveller) LogValue() slog.Value {
	return slog.GroupValue(slog.String("role", t.Role), slog.Bool("document", t.DocumentNumber != ""))
}

// Name renders the traveller's name for the officer.
func (t Traveller) Name() string {
	return strings.TrimSpace(t.Surname + ", " + t.GivenNames)
}

// Flight is a flight (or one leg of it) as an API or PNR message describes
// it.
type Flight struct {
	// Number is carrier + number, "BA0123".
	Number      string    `json:"number"`
	Carrier     string    `json:"carrier"`
	Departure   string    `json:"departure"` // IATA airport
	Arrival     string    `json:"arrival"`
	DepartureAt time.Time `json:"departure_at,omitzero"`
	ArrivalAt   time.Time `json:"arrival_at,omitzero"`
	// Legs lists every leg when the message describes several (multi-leg
	// flights); the flight itself is the leg that arrives in the country.
	Legs []Leg `json:"legs,omitempty"`
}

// Leg is one segment of a multi-leg flight.
type Leg struct {
	Flight      string    `json:"flight"`
	Departure   string    `json:"departure"`
	Arrival     string    `json:"arrival"`
	DepartureAt time.Time `json:"departure_at,omitzero"`
	ArrivalAt   time.Time `json:"arrival_at,omitzero"`
}

// Manifest is one parsed message: a PAXLST passenger or crew list, or a
// PNRGOV push, for one flight.
type Manifest struct {
	// Message is "PAXLST" or "PNRGOV"; Version its directory (D02B, D05B,
	// 11.1, …); Reference the message reference (UNH).
	Message   string    `json:"message"`
	Version   string    `json:"version"`
	Reference string    `json:"reference"`
	Sender    string    `json:"sender,omitempty"`
	Prepared  time.Time `json:"prepared,omitzero"`
	Flight    Flight    `json:"flight"`
	// Crew is set for a crew list (BGM+250).
	Crew       bool        `json:"crew,omitempty"`
	Travellers []Traveller `json:"travellers"`
	// Declared is the number of travellers the message announces (CNT);
	// 0 when it does not.
	Declared int `json:"declared,omitempty"`
	// Bookings counts PNRs (PNRGOV); Contacts and Payments count the
	// contact and payment items seen, which are not kept.
	Bookings int `json:"bookings,omitempty"`
	Contacts int `json:"contacts,omitempty"`
	Payments int `json:"payments,omitempty"`
	// Warnings are problems that did not stop the message (an unknown
	// segment skipped, a bad date on an optional field).
	Warnings []string `json:"warnings,omitempty"`
}
