package gate

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/unixsock"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Backend is what the gate API needs from the lane.
type Backend interface {
	Process(ctx context.Context, ev lane.DocumentEvent) (*lane.Transaction, error)
	Transaction(id string) *lane.Transaction
	Health() lane.Health
	Subscribe(buffer int) (<-chan lane.Event, func())
}

// Options configure the API.
type Options struct {
	Token  string // required for TCP listeners; empty for the Unix socket
	MRZ    mrz.Options
	Logger *slog.Logger
}

// Message is what the gate receives: a decision and its codes, no names.
type Message struct {
	Type      string        `json:"type"`
	TxID      string        `json:"tx_id"`
	State     string        `json:"state"`
	Decision  lane.Decision `json:"decision,omitempty"`
	Reasons   []string      `json:"reasons"`
	Actions   []string      `json:"actions"` // action codes of hits (arrest, refer…)
	Stale     bool          `json:"stale"`
	Valid     bool          `json:"document_valid"`
	FaceOK    bool          `json:"face_captured"`
	LatencyMS float64       `json:"latency_ms,omitempty"`
	At        time.Time     `json:"at"`
	// Chip is the passport chip's outcome and Face1to1 the comparison of
	// the live face with the chip photo (absent: no chip reader).
	Chip     *GateChip     `json:"chip,omitempty"`
	Face1to1 *GateFace1to1 `json:"face_1to1,omitempty"`
}

// GateChip is the chip outcome a gate may see: codes, no personal data.
type GateChip struct {
	State       string `json:"state"`             // read, unreadable, skipped
	Verdict     string `json:"verdict,omitempty"` // genuine, not_verified, failed
	Reason      string `json:"reason,omitempty"`  // the failure in words (no personal data)
	Access      string `json:"access,omitempty"`  // PACE, BAC
	PassiveAuth string `json:"passive_auth,omitempty"`
	FailedStep  string `json:"failed_step,omitempty"`
	ActiveAuth  string `json:"active_auth,omitempty"`
	ChipAuth    string `json:"chip_auth,omitempty"`
	Consistent  bool   `json:"consistent"`
}

// GateFace1to1 is the live face against the chip photo.
type GateFace1to1 struct {
	Compared  bool    `json:"compared"`
	Match     bool    `json:"match"`
	Distance  float64 `json:"distance,omitempty"`
	Threshold float64 `json:"threshold"`
}

func gateChip(v *lane.ChipView) (*GateChip, *GateFace1to1) {
	if v == nil {
		return nil, nil
	}
	c := &GateChip{State: v.State, Verdict: v.Verdict, Access: v.Access, PassiveAuth: v.PassiveAuth, FailedStep: v.PAStep,
		ActiveAuth: v.ActiveAuth, ChipAuth: v.ChipAuth, Consistent: v.Consistent}
	if v.State == lane.ChipRead {
		c.Reason = v.Reason
	} else {
		c.Reason = v.Line
	}
	var f *GateFace1to1
	if v.Face != nil {
		f = &GateFace1to1{Compared: v.Face.Compared, Match: v.Face.Match, Distance: v.Face.Distance, Threshold: v.Face.Threshold}
	}
	return c, f
}

// FromTransaction strips a transaction to what a gate may see. At is the
// time of the event the message reports: the decision's own time once
// decided, the start of the transaction before that.
func FromTransaction(typ string, tx *lane.Transaction) Message {
	m := Message{Type: typ, TxID: tx.ID, State: tx.State, Decision: tx.Decision, Reasons: tx.Reasons,
		Stale: tx.Stale, Valid: tx.Document.Valid, FaceOK: tx.Face.Captured, LatencyMS: tx.LatencyMS,
		At: tx.StartedAt.UTC(), Actions: []string{}}
	if !tx.DecidedAt.IsZero() {
		m.At = tx.DecidedAt.UTC()
	}
	if m.Reasons == nil {
		m.Reasons = []string{}
	}
	for _, h := range tx.Hits {
		m.Actions = append(m.Actions, h.Action)
	}
	m.Chip, m.Face1to1 = gateChip(tx.Chip)
	return m
}

// Status is the lane's health as the gate sees it.
type Status struct {
	Unit              string   `json:"unit"`
	Mode              string   `json:"mode"`
	Scanner           string   `json:"scanner"`
	Camera            string   `json:"camera"`
	WatchlistSequence uint64   `json:"watchlist_sequence"`
	Stale             bool     `json:"stale"`
	Alarms            []string `json:"alarms"`
}

// maxDocumentBody bounds a pushed document: three MRZ lines of at most 44
// characters and the JSON around them fit many times over.
const maxDocumentBody = 4096

// Handler returns the API's HTTP handler.
func Handler(b Backend, opt Options) http.Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		h := b.Health()
		st := Status{Unit: h.Unit, Mode: h.Mode, Scanner: h.Scanner, Camera: h.Camera,
			WatchlistSequence: h.WatchlistSeq, Stale: h.Stale, Alarms: h.Alarms}
		if st.Alarms == nil {
			st.Alarms = []string{}
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("GET /v1/transactions/{id}", func(w http.ResponseWriter, r *http.Request) {
		tx := b.Transaction(r.PathValue("id"))
		if tx == nil {
			writeError(w, http.StatusNotFound, "unknown transaction")
			return
		}
		writeJSON(w, http.StatusOK, FromTransaction("transaction", tx))
	})
	mux.HandleFunc("POST /v1/documents", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			MRZ []string `json:"mrz"`
		}
		if !isJSON(r.Header.Get("Content-Type")) {
			writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
			return
		}
		if r.ContentLength > maxDocumentBody {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxDocumentBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxDocumentBody)
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		err := dec.Decode(&req)
		if err == nil && dec.More() {
			err = errors.New("trailing data after the JSON object")
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxDocumentBody))
				return
			}
			writeError(w, http.StatusBadRequest, "body must be {\"mrz\": [\"line1\", \"line2\"(, \"line3\")]}: "+err.Error())
			return
		}
		if len(req.MRZ) < 2 || len(req.MRZ) > 3 {
			writeError(w, http.StatusBadRequest, "mrz must have 2 or 3 lines")
			return
		}
		doc := mrz.Parse(req.MRZ, opt.MRZ)
		tx, err := b.Process(r.Context(), lane.DocumentEvent{Document: doc, Source: "gate", At: time.Now()})
		if tx == nil {
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("transaction failed: %v", err))
			return
		}
		// A transaction whose result could not be stored is still answered
		// (as REFER): the gate must not hang.
		writeJSON(w, http.StatusOK, FromTransaction(lane.EventDecision, tx))
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		fl, ok := w.(http.Flusher)
		if !ok {
			writeError(w, http.StatusInternalServerError, "streaming unsupported")
			return
		}
		ch, cancel := b.Subscribe(64)
		defer cancel()
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		fl.Flush()
		enc := json.NewEncoder(w)
		for {
			select {
			case <-r.Context().Done():
				return
			case ev, ok := <-ch:
				if !ok {
					return
				}
				if ev.Transaction == nil || ev.Type == lane.EventOfficerDecision {
					continue
				}
				if err := enc.Encode(FromTransaction(ev.Type, ev.Transaction)); err != nil {
					return
				}
				fl.Flush()
			}
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opt.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(opt.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="checkpoint-gate"`)
				writeError(w, http.StatusUnauthorized, "bearer token required")
				return
			}
		}
		// The standard mux answers unknown paths and methods in plain text;
		// a gate controller parses JSON, so those are answered here.
		if _, pattern := mux.Handler(r); pattern == "" {
			if allow := allowed(mux, r); len(allow) > 0 {
				w.Header().Set("Allow", strings.Join(allow, ", "))
				writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
				return
			}
			writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// allowed lists the methods the mux serves for r's path.
func allowed(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" {
			out = append(out, m)
		}
	}
	return out
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// ListenUnix listens on a Unix socket with mode 0660 (the gate controller
// is in the daemon's group), replacing a stale socket left by a crash.
func ListenUnix(path string) (net.Listener, error) {
	l, err := unixsock.Listen(path, 0o660)
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	return l, nil
}

// ReadToken reads a bearer token file (at least 16 characters, not
// readable by others).
func ReadToken(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("gate: token: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("gate: token file %s is readable by other users (mode %v)", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("gate: token: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if len(t) < 16 {
		return "", errors.New("gate: token must be at least 16 characters")
	}
	return t, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
