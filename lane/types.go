package lane

import (
	"context"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

// DocumentEvent is a document read by the lane's scanner or pushed by a
// gate controller.
type DocumentEvent struct {
	Document *mrz.Document
	Source   string    // "scanner" or "gate"
	At       time.Time // when the last byte of the document arrived
	Repeat   bool      // the same document as the previous scan
}

// FaceCapture is the best face of a capture window.
type FaceCapture struct {
	Captured   bool // a face passed the quality gate
	FacesSeen  int  // faces detected in the window, passing or not
	Multiple   bool // several faces in the capture zone
	Quality    float64
	Reasons    []string // quality gate failures of the best face
	Descriptor []float32
	ModelID    string
	JPEG       []byte // the captured face, for the officer and (by policy) HQ
	Frames     int
}

// FaceSource captures the traveller's face.
type FaceSource interface {
	// Capture returns the best face seen within window; it may return
	// early once a face is good enough.
	Capture(ctx context.Context, window time.Duration) (FaceCapture, error)
	// Up reports whether the camera is delivering frames.
	Up() bool
}

// CheckResult is the watchlist's answer for one traveller.
type CheckResult struct {
	Hits            []HitView
	IntegrityErrors int
	Sequence        uint64
	Stale           bool
	Empty           bool // no watchlist installed
}

// Checker matches a traveller against the watchlist.
type Checker interface {
	Check(ctx context.Context, doc *mrz.Document, face *FaceCapture) (CheckResult, error)
}

// Item is what the lane hands to the outbox; Priority is true for hits.
type Item struct {
	Kind     string
	Hit      bool
	Payload  []byte
	Created  time.Time
	TxID     string
	Decision Decision
}

// Queue persists results durably before they are acknowledged.
type Queue interface {
	Enqueue(ctx context.Context, it Item) error
}

// Auditor appends to the audit log.
type Auditor interface {
	Append(kind, actor, action string, fields map[string]string) error
}

// DocumentView is what the officer sees of the document.
type DocumentView struct {
	Format         string   `json:"format"`
	DocumentCode   string   `json:"document_code"`
	IssuingState   string   `json:"issuing_state"`
	IssuingName    string   `json:"issuing_name,omitempty"`
	IssuingISO2    string   `json:"issuing_iso2,omitempty"` // ISO 3166 alpha-2, for the page's country names
	DocumentNumber string   `json:"document_number"`
	Surname        string   `json:"surname"`
	GivenNames     string   `json:"given_names"`
	Nationality    string   `json:"nationality"`
	NationalityISO string   `json:"nationality_iso2,omitempty"`
	BirthDate      string   `json:"birth_date"`
	Sex            string   `json:"sex"`
	ExpiryDate     string   `json:"expiry_date"`
	Valid          bool     `json:"valid"`
	Expired        bool     `json:"expired"`
	Repeat         bool     `json:"repeat"`
	Problems       []string `json:"problems,omitempty"`
	Corrections    []string `json:"corrections,omitempty"`
}

// FaceView is what the officer sees of the face capture.
type FaceView struct {
	Wanted    bool     `json:"wanted"`
	Captured  bool     `json:"captured"`
	Quality   float64  `json:"quality"`
	Reasons   []string `json:"reasons,omitempty"`
	FacesSeen int      `json:"faces_seen"`
	Multiple  bool     `json:"multiple"`
	HasImage  bool     `json:"has_image"`
}

// FieldView explains one field of a match score.
type FieldView struct {
	Field  string  `json:"field"`
	Score  float64 `json:"score"`
	Detail string  `json:"detail"`
}

// HitView is one watchlist hit as the officer sees it.
type HitView struct {
	Kind     string  `json:"kind"` // document, person, face
	RefID    string  `json:"ref_id"`
	Source   string  `json:"source"`
	Category string  `json:"category"` // person category or document status
	Action   string  `json:"action"`
	Score    float64 `json:"score"`
	Distance float64 `json:"distance,omitempty"`
	Strength string  `json:"strength,omitempty"`
	// Level is "hit" (the decision is HIT) or "possible" (a candidate for
	// the officer: the decision is REFER "possible match"). Empty is "hit".
	Level       string      `json:"level,omitempty"`
	Explanation string      `json:"explanation"`
	Fields      []FieldView `json:"fields,omitempty"`
	Person      string      `json:"person,omitempty"` // listed name, DOB, nationality (screen only)
	// Listed is the listed person of a person or face hit, and Agreement
	// how the traveller's document compares with it field by field: the
	// officer's page words its explanations from these, never from
	// Explanation (which is for the second line).
	Listed    *ListedPerson `json:"listed,omitempty"`
	Agreement *Agreement    `json:"agreement,omitempty"`
	// Discreet is set when policy says this hit's category or action must
	// not be shown openly at the desk (config officer.discreet).
	Discreet bool `json:"discreet,omitempty"`
	// SharedAlert is another post's officer-confirmed hit on the same
	// watchlist entry, shared by headquarters ("shared alert: seen at
	// post desk-07 at 14:05 UTC on 3 May · discreet check"), for the gate
	// and the second line; Sightings are the same as fields, which the
	// officer's page words in the officer's language.
	SharedAlert string     `json:"shared_alert,omitempty"`
	Sightings   []Sighting `json:"sightings,omitempty"`
	HasPhoto    bool       `json:"has_photo"`
	Photo       []byte     `json:"-"`

	// Prearrival is set on a hit of kind "prearrival": the traveller was
	// flagged before the flight landed (lane/prearrival.go).
	Prearrival *PrearrivalView `json:"prearrival,omitempty"`
}

// ListedPerson is what the watchlist holds about the person of a hit, as
// fields. It is personal data: screen and outbox only, never logs.
type ListedPerson struct {
	Surname     string `json:"surname"`
	GivenNames  string `json:"given_names,omitempty"`
	Birth       string `json:"birth,omitempty"` // 1985, 1985-03 or 1985-03-12
	Nationality string `json:"nationality,omitempty"`
	// NationalityISO is Nationality as ISO 3166 alpha-2, when it is a
	// country.
	NationalityISO string `json:"nationality_iso2,omitempty"`
	Sex            string `json:"sex,omitempty"`
	Aliases        int    `json:"aliases,omitempty"`
}

// Agreement words of a name part.
const (
	AgreeExact   = "exact"   // the same name (after transliteration)
	AgreeVariant = "variant" // another spelling of the same name
	AgreePartial = "partial" // some of the names agree (truncated, fewer or more names)
	AgreeDiffers = "differs"
	AgreeUnknown = "unknown" // missing on one side
)

// Agreement words of dates and codes.
const (
	AgreeSameDay   = "same_day"
	AgreeSameMonth = "same_month" // the listed date has no day
	AgreeSameYear  = "same_year"  // the listed date has only a year
	AgreeClose     = "close"      // one digit apart, or day and month swapped
	AgreeSame      = "same"       // nationality, sex
)

// Agreement is how the traveller's document compares with the listed
// person of a hit, in words the page translates.
type Agreement struct {
	Surname    string `json:"surname"`
	GivenNames string `json:"given_names"`
	// Alias is set when the name matched another name listed for the
	// person rather than the main one.
	Alias       bool   `json:"alias,omitempty"`
	Birth       string `json:"birth"`
	Nationality string `json:"nationality"`
	Sex         string `json:"sex"`
}

// OfficerDecision is one officer verdict on a transaction. A transaction
// has at most one verdict in force; a later verdict names the one it
// supersedes and why (ChangeReason), and both stay in the outbox and the
// audit log.
type OfficerDecision struct {
	ID      string `json:"id"` // <tx id>/<n>, n from 1
	Officer string `json:"officer"`
	Verdict string `json:"verdict"` // confirmed, false_positive, referred, cleared
	// Reason is why a HIT was dismissed or cleared (DismissReasons).
	Reason string `json:"reason,omitempty"`
	Note   string `json:"note,omitempty"`
	// Supersedes is the ID of the verdict this one replaces, with the
	// officer's ChangeReason (ChangeReasons).
	Supersedes   string             `json:"supersedes,omitempty"`
	ChangeReason string             `json:"change_reason,omitempty"`
	Candidates   []CandidateVerdict `json:"candidates,omitempty"`
	At           time.Time          `json:"at"`
	Recorded     bool               `json:"recorded"` // durable in the outbox and the audit log
}

// CandidateVerdict is the officer's judgement of one possible match: is
// the listed candidate the traveller?
type CandidateVerdict struct {
	Hit     int    `json:"hit"` // index in Transaction.Hits
	Kind    string `json:"kind"`
	RefID   string `json:"ref_id"`
	Verdict string `json:"verdict"` // same_person or not_same
}

// Transaction is one traveller at the lane.
type Transaction struct {
	ID        string           `json:"id"`
	Source    string           `json:"source"`
	State     string           `json:"state"` // started, face_captured, decided
	StartedAt time.Time        `json:"started_at"`
	DecidedAt time.Time        `json:"decided_at,omitzero"`
	Document  DocumentView     `json:"document"`
	Face      FaceView         `json:"face"`
	Hits      []HitView        `json:"hits"`
	Decision  Decision         `json:"decision,omitempty"`
	Reasons   []string         `json:"reasons,omitempty"`
	Texts     []string         `json:"reason_texts,omitempty"`
	Stale     bool             `json:"stale"`
	Sequence  uint64           `json:"watchlist_sequence"`
	LatencyMS float64          `json:"latency_ms"`
	Officer   *OfficerDecision `json:"officer_decision,omitempty"` // the verdict in force
	// Verdicts are every verdict recorded, oldest first.
	Verdicts []OfficerDecision `json:"verdicts,omitempty"`
	// Discreet is set when a hit of the transaction is to be shown
	// discreetly: the screen facing the desk must not shout it.
	Discreet bool `json:"discreet,omitempty"`
	// Pending is set on copies of a HIT or REFER that awaits the
	// officer's verdict ("action required").
	Pending    bool      `json:"pending"`
	Chip       *ChipView `json:"chip,omitempty"`
	FaceJPEG   []byte    `json:"-"`
	ChipJPEG   []byte    `json:"-"` // the chip's DG2 photo (JPEG), for the page
	doc        *mrz.Document
	descriptor []float32
}

// Event is published to the officer's page and the gate.
type Event struct {
	Type        string       `json:"type"` // transaction_started, face_captured, decision, officer_decision, health
	Transaction *Transaction `json:"transaction,omitempty"`
	Health      *Health      `json:"health,omitempty"`
}

// Event types.
const (
	EventStarted         = "transaction_started"
	EventFaceCaptured    = "face_captured"
	EventDecision        = "decision"
	EventOfficerDecision = "officer_decision"
	EventHealth          = "health"
)

// Health is the lane's device and data state for the page and status.
type Health struct {
	Unit            string    `json:"unit"`
	Mode            string    `json:"mode"`
	Scanner         string    `json:"scanner"` // connected, disconnected, disabled
	ScannerError    string    `json:"scanner_error,omitempty"`
	Camera          string    `json:"camera"`
	CameraError     string    `json:"camera_error,omitempty"`
	ChipReader      string    `json:"chip_reader,omitempty"` // connected, disconnected, disabled
	ChipReaderError string    `json:"chip_reader_error,omitempty"`
	WatchlistSeq    uint64    `json:"watchlist_sequence"`
	WatchlistAge    string    `json:"watchlist_age"`
	WatchlistIssued time.Time `json:"watchlist_issued_at,omitzero"`
	Stale           bool      `json:"stale"`
	Link            string    `json:"link"` // up, down, degraded, offline
	OutboxDepth     int64     `json:"outbox_depth"`
	OutboxHits      int64     `json:"outbox_hits"`
	IntegrityAlarms int64     `json:"integrity_alarms"`
	Alarms          []string  `json:"alarms,omitempty"`
	// AlarmCodes name the alarms one for one ("scanner_disconnected",
	// "watchlist_stale"…), so the officer's page words them in the
	// officer's language; Alarms is the English text for logs and tools.
	AlarmCodes       []string  `json:"alarm_codes,omitempty"`
	LastTransaction  time.Time `json:"last_transaction,omitzero"`
	TransactionsDone int64     `json:"transactions"`
}

// Sighting is another post's officer-confirmed hit on the same watchlist
// entry, shared by headquarters on the alerts channel.
type Sighting struct {
	Post   string    `json:"post"`
	Site   string    `json:"site,omitempty"`
	SeenAt time.Time `json:"seen_at"`
	// Action is what this post should do (the sharing policy's).
	Action string `json:"action,omitempty"`
	Note   string `json:"note,omitempty"`
}

// AlarmCodes are the codes Health.AlarmCodes may carry; the officer's
// page has words for each in every language it ships.
var AlarmCodes = []string{
	"scanner_disconnected", "scanner_queue_full",
	"camera_idle", "camera_opening", "camera_reconnecting", "camera_ended", "camera_stopped", "camera_failed", "camera_closed",
	"chip_reader_disconnected", "chip_trust_unreadable",
	"watchlist_stale", "watchlist_unsigned", "watchlist_none", "integrity",
	"disk_full", "evicted", "channels", "pending_store",
}

// Alarm adds an alarm: its code and its English text.
func (h *Health) Alarm(code, text string) {
	h.AlarmCodes = append(h.AlarmCodes, code)
	h.Alarms = append(h.Alarms, text)
}
