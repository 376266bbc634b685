package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/backoff"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
)

// PGOptions configure OpenPostgres.
type PGOptions struct {
	// Migrate applies missing schema migrations at open (checkpoint-hub
	// serve does; false only checks the version).
	Migrate bool
	// MaxConns bounds the connection pool (default 16).
	MaxConns int32
	Logger   *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// feedChannel is the NOTIFY channel of committed hits and officer
// decisions; the payload is "<unit> <unit_seq>,<unit_seq>,…".
const feedChannel = "checkpoint_feed"

// pgFormat marks a database set up by this hub.
const pgFormat = "checkpoint-hub-pg/1"

var pgDEKAD = []byte("checkpoint/hub/dek")

type pgStore struct {
	pool   *pgxpool.Pool
	url    string
	sealer *seal.Sealer
	kp     seal.KeyProvider
	log    *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	closed bool
}

// OpenPostgres connects to the database at url (a libpq connection string
// or URL), applies or checks the schema migrations, and unwraps the data
// key with kp (creating it on first use).
func OpenPostgres(ctx context.Context, url string, kp seal.KeyProvider, o PGOptions) (Store, error) {
	if kp == nil {
		return nil, errors.New("hub: no key provider")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 16
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("hub: database URL: %w", err)
	}
	cfg.MaxConns = o.MaxConns
	cfg.HealthCheckPeriod = 5 * time.Second
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if o.Migrate {
		res, err := Migrate(ctx, url)
		if err != nil {
			return nil, err
		}
		if len(res.Applied) > 0 {
			o.Logger.Info("database schema migrated", "from", res.From, "to", res.To, "applied", strings.Join(res.Applied, ","))
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := checkSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	kek, err := kp.KEK()
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("hub: key %s: %w", kp, err)
	}
	defer seal.Wipe(kek)
	dek, err := pgDataKey(ctx, pool, kek)
	if err != nil {
		pool.Close()
		return nil, err
	}
	defer seal.Wipe(dek)
	s, err := seal.NewSealer(dek)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("hub: %w", err)
	}
	return &pgStore{pool: pool, url: url, sealer: s, kp: kp, log: o.Logger, now: o.Now}, nil
}

// pgDataKey returns the database's data key, creating and wrapping it on
// first use; replicas starting at once agree on one key (the insert of
// the loser does nothing and it reads the winner's).
func pgDataKey(ctx context.Context, pool *pgxpool.Pool, kek []byte) ([]byte, error) {
	fresh := seal.NewKey()
	defer seal.Wipe(fresh)
	w, err := seal.WrapKey(kek, fresh, pgDEKAD)
	if err != nil {
		return nil, err
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO hub_meta (name, value) VALUES ('format', $1) ON CONFLICT (name) DO NOTHING`, []byte(pgFormat))
	b.Queue(`INSERT INTO hub_meta (name, value) VALUES ('dek', $1) ON CONFLICT (name) DO NOTHING`, w)
	if err := pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var format, wrapped []byte
	err = pool.QueryRow(ctx, `SELECT (SELECT value FROM hub_meta WHERE name = 'format'), (SELECT value FROM hub_meta WHERE name = 'dek')`).Scan(&format, &wrapped)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if string(format) != pgFormat {
		return nil, fmt.Errorf("hub: unsupported database format %q (this build reads %q)", format, pgFormat)
	}
	dek, err := seal.UnwrapKey(kek, wrapped, pgDEKAD)
	if err != nil {
		return nil, fmt.Errorf("hub: database data key: %w", err)
	}
	return dek, nil
}

func (p *pgStore) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		p.pool.Close()
	}
	return nil
}

func (p *pgStore) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// wrap maps database errors: everything that is not the caller's fault is
// ErrUnavailable (503 + Retry-After; the unit keeps its records).
func (p *pgStore) wrap(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrUnknownUnit), errors.Is(err, ErrBadQuery), errors.Is(err, ErrBadBatch),
		errors.Is(err, context.Canceled), errors.Is(err, ErrUnavailable):
		return err
	case p.isClosed():
		return ErrClosed
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func (p *pgStore) RotateKEK(ctx context.Context, newKP seal.KeyProvider) error {
	oldKEK, newKEK, err := rotationKEKs(p.kp, newKP)
	if err != nil {
		return err
	}
	defer seal.Wipe(oldKEK)
	defer seal.Wipe(newKEK)
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var w []byte
		if err := tx.QueryRow(ctx, `SELECT value FROM hub_meta WHERE name = 'dek' FOR UPDATE`).Scan(&w); err != nil {
			return err
		}
		dek, err := seal.UnwrapKey(oldKEK, w, pgDEKAD)
		if err != nil {
			return err
		}
		defer seal.Wipe(dek)
		nw, err := seal.WrapKey(newKEK, dek, pgDEKAD)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE hub_meta SET value = $1 WHERE name = 'dek'`, nw)
		return err
	})
	if errors.Is(err, seal.ErrWrongKey) {
		return err
	}
	if err != nil {
		return p.wrap(fmt.Errorf("rotate key: %w", err))
	}
	p.kp = newKP
	return nil
}

// Ingest runs one transaction: lock the unit's row (creating it), find
// which keys are already held, insert the others with the next unit_seq
// values (ON CONFLICT DO NOTHING as a second guard), update the unit and
// its audit anchor, NOTIFY the feed, commit.
func (p *pgStore) Ingest(ctx context.Context, req IngestRequest) (IngestResult, error) {
	res := IngestResult{Unit: req.Unit}
	if err := checkRequest(&req); err != nil {
		return res, err
	}
	if p.isClosed() {
		return res, ErrClosed
	}
	now := p.now().UTC()
	keys := make([]string, 0, len(req.Records))
	for _, r := range req.Records {
		keys = append(keys, r.Key)
	}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		res = IngestResult{Unit: req.Unit, Acked: keys}
		b := &pgx.Batch{}
		var lastSeq int64
		var auditJSON []byte
		b.Queue(`INSERT INTO units (unit, first_contact, last_contact) VALUES ($1, $2, $2)
			ON CONFLICT (unit) DO UPDATE SET last_contact = excluded.last_contact
			RETURNING last_seq, audit`, req.Unit, now).QueryRow(func(row pgx.Row) error {
			return row.Scan(&lastSeq, &auditJSON)
		})
		held := map[string]bool{}
		b.Queue(`SELECT key FROM results WHERE key = ANY($1)`, keys).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					return err
				}
				held[k] = true
			}
			return rows.Err()
		})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		var ins insertRows
		seq := uint64(lastSeq)
		var feedSeqs []string
		for _, r := range req.Records {
			if held[r.Key] {
				res.Duplicates++
				continue
			}
			held[r.Key] = true
			seq++
			st := Stored{Record: r, Unit: req.Unit, UnitSeq: seq, ReceivedAt: now, Source: req.Source}
			sealed, err := sealStored(p.sealer, &st)
			if err != nil {
				return err
			}
			m := metaOf(&r)
			ins.add(&st, m, sealed)
			if feedWorthy(&r, m) {
				res.Feed = append(res.Feed, st)
				feedSeqs = append(feedSeqs, strconv.FormatUint(seq, 10))
			}
			res.New++
		}
		var state AuditState
		if len(auditJSON) > 0 {
			if err := json.Unmarshal(auditJSON, &state); err != nil {
				return fmt.Errorf("unit audit state: %w", err)
			}
		}
		if req.Audit != nil {
			var ack audit.Ack
			state, ack, res.AuditFlag = judgeAnchor(state, req.Unit, req.Audit, req.UnitKey, now)
			res.Audit = &ack
		}
		newAudit, err := json.Marshal(&state)
		if err != nil {
			return err
		}
		b = &pgx.Batch{}
		if res.New > 0 {
			b.Queue(`INSERT INTO results (unit, unit_seq, key, kind, priority, seq, created_at, received_at, source,
					tx_id, decision, verdict, categories, entries, hit_count, sealed)
				SELECT $1, s, k, kd, pr, sq, ca, $2, $3, tx, de, ve, string_to_array(cat, E'\x1f'), string_to_array(en, E'\x1f'), hc, se
				FROM unnest($4::bigint[], $5::text[], $6::text[], $7::smallint[], $8::bigint[], $9::timestamptz[],
					$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::integer[], $16::bytea[])
					AS t(s, k, kd, pr, sq, ca, tx, de, ve, cat, en, hc, se)
				ON CONFLICT (key) DO NOTHING`,
				req.Unit, now, req.Source, ins.seq, ins.key, ins.kind, ins.prio, ins.useq, ins.created,
				ins.tx, ins.decision, ins.verdict, ins.cats, ins.entries, ins.hits, ins.sealed).Exec(func(ct pgconn.CommandTag) error {
				if int(ct.RowsAffected()) != res.New {
					// Impossible while the unit's row is locked; refuse
					// rather than leave a gap in unit_seq.
					return fmt.Errorf("inserted %d of %d new records", ct.RowsAffected(), res.New)
				}
				return nil
			})
		}
		lastImport := req.Source == SourceImport
		b.Queue(`UPDATE units SET last_seq = $2, records = records + $3, duplicates = duplicates + $4,
				last_import = CASE WHEN $5 THEN $6 ELSE last_import END, audit = $7, audit_flag = $8
			WHERE unit = $1`, req.Unit, int64(seq), res.New, res.Duplicates, lastImport, now, newAudit, state.Flag)
		for _, payload := range feedPayloads(req.Unit, feedSeqs) {
			b.Queue(`SELECT pg_notify($1, $2)`, feedChannel, payload)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return IngestResult{Unit: req.Unit}, p.wrap(fmt.Errorf("ingest: %w", err))
	}
	return res, nil
}

// Lead holds a session advisory lock on a dedicated connection: the lock
// lives as long as the connection, so a replica that dies or loses the
// database loses it, and another takes over.
func (p *pgStore) Lead(ctx context.Context, name string) (<-chan struct{}, func(), bool, error) {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return nil, nil, false, p.wrap(err)
	}
	h := fnv.New64a()
	h.Write([]byte("checkpoint-hub/" + name))
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(h.Sum64())).Scan(&ok); err != nil || !ok {
		conn.Close(context.Background())
		return nil, nil, false, p.wrap(err)
	}
	lost := make(chan struct{})
	stop := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(stop) }) }
	go func() {
		defer close(lost)
		defer conn.Close(context.Background())
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := conn.Ping(pctx)
				cancel()
				if err != nil {
					p.log.Warn("leadership lost: database connection broken", "job", name, "err", err)
					return
				}
			}
		}
	}()
	return lost, release, true, nil
}

// feedPayloads splits the new feed records' unit_seq values into NOTIFY
// payloads under PostgreSQL's 8000-byte limit.
func feedPayloads(unit string, seqs []string) []string {
	var out []string
	for len(seqs) > 0 {
		n, size := 0, len(unit)+1
		for n < len(seqs) && size+len(seqs[n])+1 < 7000 {
			size += len(seqs[n]) + 1
			n++
		}
		out = append(out, unit+" "+strings.Join(seqs[:n], ","))
		seqs = seqs[n:]
	}
	return out
}

// insertRows are the columns of new results, as arrays for unnest.
type insertRows struct {
	seq, useq               []int64
	key, kind, tx, decision []string
	verdict, cats, entries  []string
	prio                    []int16
	created                 []time.Time
	hits                    []int32
	sealed                  [][]byte
}

func (r *insertRows) add(st *Stored, m meta, sealed []byte) {
	r.seq = append(r.seq, int64(st.UnitSeq))
	r.key = append(r.key, st.Key)
	r.kind = append(r.kind, st.Kind)
	r.prio = append(r.prio, int16(st.Priority))
	r.useq = append(r.useq, int64(st.Seq))
	r.created = append(r.created, qtime(st.CreatedAt))
	r.tx = append(r.tx, m.TxID)
	r.decision = append(r.decision, m.Decision)
	r.verdict = append(r.verdict, m.Verdict)
	r.cats = append(r.cats, strings.Join(m.Categories, "\x1f"))
	r.entries = append(r.entries, strings.Join(m.Entries, "\x1f"))
	r.hits = append(r.hits, int32(m.Hits))
	r.sealed = append(r.sealed, sealed)
}

func (p *pgStore) Units(ctx context.Context) ([]UnitInfo, error) {
	rows, err := p.pool.Query(ctx, `SELECT unit, first_contact, last_contact, last_import, records, duplicates, audit
		FROM units ORDER BY unit`)
	if err != nil {
		return nil, p.wrap(err)
	}
	defer rows.Close()
	var out []UnitInfo
	for rows.Next() {
		var u UnitInfo
		var li *time.Time
		var a []byte
		var rec, dup int64
		if err := rows.Scan(&u.Unit, &u.FirstContact, &u.LastContact, &li, &rec, &dup, &a); err != nil {
			return nil, p.wrap(err)
		}
		if li != nil {
			u.LastImport = li.UTC()
		}
		u.FirstContact, u.LastContact = u.FirstContact.UTC(), u.LastContact.UTC()
		u.Records, u.Duplicates = uint64(rec), uint64(dup)
		if err := json.Unmarshal(a, &u.Audit); err != nil {
			return nil, fmt.Errorf("hub: unit %s audit state: %w", u.Unit, err)
		}
		out = append(out, u)
	}
	return out, p.wrap(rows.Err())
}

func (p *pgStore) ResetAudit(ctx context.Context, unit string) error {
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var a []byte
		if err := tx.QueryRow(ctx, `SELECT audit FROM units WHERE unit = $1 FOR UPDATE`, unit).Scan(&a); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrUnknownUnit
			}
			return err
		}
		var st AuditState
		if err := json.Unmarshal(a, &st); err != nil {
			return err
		}
		st.Reset, st.Flag, st.Detail, st.FlaggedAt = true, "", "", time.Time{}
		na, err := json.Marshal(&st)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE units SET audit = $2, audit_flag = '' WHERE unit = $1`, unit, na)
		return err
	})
	return p.wrap(err)
}

func (p *pgStore) Results(ctx context.Context, q Query) (Page, error) {
	if err := q.normalize(); err != nil {
		return Page{}, err
	}
	cur, err := parseCursor(q)
	if err != nil {
		return Page{}, err
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Unit != "" {
		where = append(where, "unit = "+arg(q.Unit))
	}
	if !q.Since.IsZero() {
		where = append(where, "created_at >= "+arg(qtime(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "created_at < "+arg(qtime(q.Until)))
	}
	if q.Kind != "" {
		where = append(where, "kind = "+arg(q.Kind))
	}
	if q.Decision != "" {
		where = append(where, "decision = "+arg(q.Decision))
	}
	// The array filters repeat the partial indexes' predicates so that the
	// planner can use them.
	if q.Category != "" {
		where = append(where, "categories <> '{}' AND categories @> ARRAY["+arg(q.Category)+"]::text[]")
	}
	if q.Entry != "" {
		where = append(where, "entries <> '{}' AND entries @> ARRAY["+arg(q.Entry)+"]::text[]")
	}
	if q.TxID != "" {
		where = append(where, "tx_id = "+arg(q.TxID))
	}
	var order string
	if q.Order == OrderArrival {
		where = append(where, "unit_seq > "+arg(int64(max(q.After, cur.seq))))
		order = "unit_seq"
	} else {
		if cur.set {
			if q.Unit != "" {
				// unit is fixed: compare on the index's remaining columns.
				where = append(where, "(created_at, unit_seq) > ("+arg(cur.t)+", "+arg(int64(cur.seq))+")")
			} else {
				where = append(where, "(created_at, unit, unit_seq) > ("+arg(cur.t)+", "+arg(cur.unit)+", "+arg(int64(cur.seq))+")")
			}
		}
		order = "created_at, unit, unit_seq"
	}
	sql := "SELECT unit, unit_seq, sealed FROM results"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY " + order + " LIMIT " + arg(q.Limit+1)
	rows, err := p.pool.Query(ctx, sql, args...)
	if err != nil {
		return Page{}, p.wrap(err)
	}
	defer rows.Close()
	var page Page
	for rows.Next() {
		var unit string
		var seq int64
		var sealed []byte
		if err := rows.Scan(&unit, &seq, &sealed); err != nil {
			return Page{}, p.wrap(err)
		}
		if len(page.Results) == q.Limit {
			page.Next = nextCursor(q.Order, page.Results[len(page.Results)-1])
			break
		}
		st, err := openStored(p.sealer, unit, uint64(seq), sealed)
		if err != nil {
			return Page{}, fmt.Errorf("hub: results: %w", err)
		}
		page.Results = append(page.Results, st)
	}
	if err := rows.Err(); err != nil {
		return Page{}, p.wrap(err)
	}
	if len(page.Results) == 0 && q.Unit != "" {
		var one int
		err := p.pool.QueryRow(ctx, `SELECT 1 FROM units WHERE unit = $1`, q.Unit).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return Page{}, ErrUnknownUnit
		}
		if err != nil {
			return Page{}, p.wrap(err)
		}
	}
	return page, nil
}

func (p *pgStore) EntryHits(ctx context.Context, q EntryQuery) ([]EntrySummary, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var where = []string{"decision = 'HIT'", "entries <> '{}'"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Entry != "" {
		a := arg(q.Entry)
		where = append(where, "entries <> '{}' AND entries @> ARRAY["+a+"]::text[]", "e = "+a)
	}
	if !q.Since.IsZero() {
		where = append(where, "created_at >= "+arg(qtime(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "created_at < "+arg(qtime(q.Until)))
	}
	sql := `SELECT e, count(*), array_agg(DISTINCT unit ORDER BY unit), min(created_at), max(created_at)
		FROM results, unnest(entries) AS e WHERE ` + strings.Join(where, " AND ") +
		` GROUP BY e ORDER BY count(*) DESC, e LIMIT ` + arg(q.Limit)
	rows, err := p.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, p.wrap(err)
	}
	defer rows.Close()
	var out []EntrySummary
	for rows.Next() {
		var s EntrySummary
		var n int64
		if err := rows.Scan(&s.Entry, &n, &s.Units, &s.FirstSeen, &s.LastSeen); err != nil {
			return nil, p.wrap(err)
		}
		s.Hits = int(n)
		s.FirstSeen, s.LastSeen = s.FirstSeen.UTC(), s.LastSeen.UTC()
		out = append(out, s)
	}
	return out, p.wrap(rows.Err())
}

// Watch LISTENs on a dedicated connection and hands every notified record
// to fn. After a lost connection it reconnects with backoff and catches up
// from the database what was committed meanwhile (results_feed index),
// skipping what it already delivered.
func (p *pgStore) Watch(ctx context.Context, fn func([]Stored)) error {
	seen := newSeenSet(10 * time.Minute)
	var since time.Time // when the last connection was lost
	pol := backoff.Policy{Initial: 100 * time.Millisecond, Max: 5 * time.Second, Factor: 2}
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			return nil
		}
		err := p.listen(ctx, since, seen, fn)
		if ctx.Err() != nil {
			return nil
		}
		if since.IsZero() || err != nil {
			since = p.now().Add(-2 * time.Second)
		}
		p.log.Warn("feed: database connection lost; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pol.Jittered(min(attempt+1, 10), nil)):
		}
	}
}

func (p *pgStore) listen(ctx context.Context, since time.Time, seen *seenSet, fn func([]Stored)) error {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+feedChannel); err != nil {
		return err
	}
	if !since.IsZero() {
		// Catch up on what committed while we were not listening.
		rows, err := p.pool.Query(ctx, `SELECT unit, unit_seq, sealed FROM results
			WHERE received_at >= $1 AND (decision = 'HIT' OR kind = 'officer_decision') ORDER BY received_at, unit, unit_seq`, since)
		if err != nil {
			return err
		}
		var batch []Stored
		for rows.Next() {
			var unit string
			var seq int64
			var sealed []byte
			if err := rows.Scan(&unit, &seq, &sealed); err != nil {
				rows.Close()
				return err
			}
			if st, err := openStored(p.sealer, unit, uint64(seq), sealed); err == nil && seen.add(st.Key) {
				batch = append(batch, st)
			}
		}
		rows.Close()
		if len(batch) > 0 {
			fn(batch)
		}
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		unit, list, ok := strings.Cut(n.Payload, " ")
		if !ok {
			continue
		}
		var seqs []int64
		for _, s := range strings.Split(list, ",") {
			if v, err := strconv.ParseInt(s, 10, 64); err == nil {
				seqs = append(seqs, v)
			}
		}
		rows, err := p.pool.Query(ctx, `SELECT unit_seq, sealed FROM results WHERE unit = $1 AND unit_seq = ANY($2) ORDER BY unit_seq`, unit, seqs)
		if err != nil {
			p.log.Warn("feed: cannot read notified records", "unit", unit, "err", err)
			continue
		}
		var batch []Stored
		for rows.Next() {
			var seq int64
			var sealed []byte
			if rows.Scan(&seq, &sealed) != nil {
				continue
			}
			if st, err := openStored(p.sealer, unit, uint64(seq), sealed); err == nil && seen.add(st.Key) {
				batch = append(batch, st)
			}
		}
		rows.Close()
		if len(batch) > 0 {
			fn(batch)
		}
	}
}

// seenSet remembers recently delivered keys, so a catch-up after a
// reconnection does not repeat them.
type seenSet struct {
	ttl  time.Duration
	keys map[string]time.Time
	last time.Time
}

func newSeenSet(ttl time.Duration) *seenSet {
	return &seenSet{ttl: ttl, keys: map[string]time.Time{}}
}

// add returns false if key was seen within ttl.
func (s *seenSet) add(key string) bool {
	now := time.Now()
	if now.Sub(s.last) > s.ttl/4 {
		for k, t := range s.keys {
			if now.Sub(t) > s.ttl {
				delete(s.keys, k)
			}
		}
		s.last = now
	}
	if _, ok := s.keys[key]; ok {
		return false
	}
	s.keys[key] = now
	return true
}

var _ Store = (*pgStore)(nil)
