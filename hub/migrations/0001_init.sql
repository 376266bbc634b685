-- Checkpoint hub schema, version 1.
--
-- Results are sealed by the hub (XChaCha20-Poly1305 under a data key that
-- the hub's key-encryption key wraps, kept in hub_meta): a dump or a
-- replica of this database holds no names, document numbers or images.
-- Only metadata is in clear, for analysts' queries.

CREATE TABLE hub_meta (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

-- One row per unit. Ingestion locks the unit's row for the length of its
-- transaction (INSERT … ON CONFLICT DO UPDATE takes the row lock), which
-- serialises a unit's batches across replicas: last_seq + 1 is then the
-- next unit_seq, with no gap and no race.
CREATE TABLE units (
    unit          text PRIMARY KEY,
    first_contact timestamptz NOT NULL,
    last_contact  timestamptz NOT NULL,
    last_import   timestamptz,
    last_seq      bigint NOT NULL DEFAULT 0,
    records       bigint NOT NULL DEFAULT 0,
    duplicates    bigint NOT NULL DEFAULT 0,
    audit         jsonb NOT NULL DEFAULT '{}',
    audit_flag    text NOT NULL DEFAULT ''
);

CREATE TABLE results (
    unit        text NOT NULL,
    unit_seq    bigint NOT NULL,
    key         text NOT NULL,        -- idempotency key "<unit>:<random hex>"
    kind        text NOT NULL,        -- result, officer_decision, …
    priority    smallint NOT NULL,    -- 1 routine, 2 hit
    seq         bigint NOT NULL,      -- the unit's outbox sequence
    created_at  timestamptz NOT NULL, -- when the unit decided
    received_at timestamptz NOT NULL,
    source      text NOT NULL,        -- upload or import
    tx_id       text NOT NULL DEFAULT '',
    decision    text NOT NULL DEFAULT '', -- CLEAR, REFER, HIT
    verdict     text NOT NULL DEFAULT '', -- officer decisions
    categories  text[] NOT NULL DEFAULT '{}',
    entries     text[] NOT NULL DEFAULT '{}', -- watchlist entries hit, "kind:ref_id"
    hit_count   integer NOT NULL DEFAULT 0,
    sealed      bytea NOT NULL,       -- the whole record, sealed
    PRIMARY KEY (unit, unit_seq),
    CONSTRAINT results_key UNIQUE (key)
);

-- Every row pays for the first four indexes; the others are partial, so a
-- CLEAR result (most of them) costs no more.
-- "All results of unit X in the last 24 h", paged by (created_at, unit_seq).
CREATE INDEX results_unit_time ON results (unit, created_at, unit_seq);
-- Fleet-wide time ranges, paged by (created_at, unit, unit_seq).
CREATE INDEX results_time ON results (created_at, unit, unit_seq);
CREATE INDEX results_hits_time ON results (created_at, unit, unit_seq) WHERE decision = 'HIT';
CREATE INDEX results_categories ON results USING gin (categories) WHERE categories <> '{}';
CREATE INDEX results_entries ON results USING gin (entries) WHERE entries <> '{}';
-- The live feed's catch-up after a lost LISTEN connection.
CREATE INDEX results_feed ON results (received_at) WHERE decision = 'HIT' OR kind = 'officer_decision';
-- Officer decisions find their hit (alert sharing).
CREATE INDEX results_tx ON results (unit, tx_id) WHERE decision = 'HIT';
