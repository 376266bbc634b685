package hub

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migrations are SQL files named NNNN_name.sql, applied in order, each in
// the same transaction as its row in schema_migrations. A file is never
// edited once released: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	Version int
	Name    string
	SQL     string
}

// migrationLock is the advisory lock key that serialises migrations when
// several replicas start at once ("chkp" in ASCII).
const migrationLock = 0x63686b70

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimSuffix(n[len("migrations/"):], ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("hub: migration file %q: want NNNN_name.sql", n)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("hub: migrations are not numbered 1, 2, 3, …: %d is %s", i+1, m.Name)
		}
	}
	return ms, nil
}

// SchemaVersion is the newest schema this build knows.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// MigrateResult says what Migrate did.
type MigrateResult struct {
	From, To int
	Applied  []string
}

// Migrate brings the database at url to SchemaVersion, applying what is
// missing under an advisory lock (replicas starting together apply each
// migration once). It refuses a database whose schema is newer than this
// build (ErrSchemaTooNew).
func Migrate(ctx context.Context, url string) (MigrateResult, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("%w: connect: %w", ErrUnavailable, err)
	}
	defer conn.Close(context.Background())
	return migrate(ctx, conn)
}

func migrate(ctx context.Context, conn *pgx.Conn) (MigrateResult, error) {
	var res MigrateResult
	ms, err := loadMigrations()
	if err != nil {
		return res, err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return res, fmt.Errorf("hub: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return res, fmt.Errorf("hub: migrate: %w", err)
	}
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&res.From); err != nil {
		return res, fmt.Errorf("hub: migrate: %w", err)
	}
	res.To = res.From
	if res.From > len(ms) {
		return res, fmt.Errorf("%w: schema version %d, this hub knows up to %d", ErrSchemaTooNew, res.From, len(ms))
	}
	for _, m := range ms[res.From:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return res, fmt.Errorf("hub: migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return res, fmt.Errorf("hub: migration %04d_%s: %w", m.Version, m.Name, err)
		}
		res.Applied = append(res.Applied, fmt.Sprintf("%04d_%s", m.Version, m.Name))
		res.To = m.Version
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("hub: migrate: commit: %w", err)
	}
	return res, nil
}

// checkSchema verifies, without changing anything, that the database is at
// this build's schema version.
func checkSchema(ctx context.Context, pool *pgxpool.Pool) error {
	var v int
	err := pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSchemaOld, err)
	}
	switch want := SchemaVersion(); {
	case v > want:
		return fmt.Errorf("%w: schema version %d, this hub knows up to %d", ErrSchemaTooNew, v, want)
	case v < want:
		return fmt.Errorf("%w: schema version %d, this hub needs %d", ErrSchemaOld, v, want)
	}
	return nil
}
