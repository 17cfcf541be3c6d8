// Package gpkg is the embedded store: one GeoPackage 1.3 file (SQLite) that
// GDAL and QGIS open as is. Grids and incidents are feature layers with
// R-tree spatial indexes; grid sets, status history and API keys are
// attribute tables.
//
// Durability: the file runs in WAL mode with synchronous=FULL, so a write is
// on disk (fsynced) before it is acknowledged, and survives kill -9 and power
// loss alike. NORMAL would survive a killed process but not a power cut; one
// fsync per transaction costs little because ingest commits whole batches.
//
// New files get 16 KiB pages: a bulk insert then writes a quarter of the
// WAL frames (one write call each) and splits a quarter of the B-tree pages
// it would with SQLite's default 4 KiB. Files made with other page sizes
// are used as they are.
package gpkg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/store/internal/hub"
)

// Store is a GeoPackage-backed store.Store.
type Store struct {
	path string
	w    *sql.DB // the single writer connection
	r    *sql.DB // readers
	hub  *hub.Hub

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// GeoPackage identification (GeoPackage 1.3 §1.1.1.1.1).
const (
	applicationID = 0x47504B47 // "GPKG"
	userVersion   = 10300
)

// Open opens or creates the GeoPackage at path and brings its schema up to
// date.
func Open(path string) (*Store, error) {
	drv := &sqlite.Driver{}
	if err := registerSpatialFunctions(drv); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	pageSize, err := initFile(drv, path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "foreign_keys(1)", "journal_mode(WAL)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	base := path + "?" + q.Encode()
	// The writer gets a cache that holds a whole ingest batch (a smaller one
	// spills dirty pages to the WAL mid-transaction), statement journals in
	// memory, and checkpoints every 32 MiB of WAL rather than every 1000
	// pages, so pages rewritten by consecutive batches are copied back once.
	wq := url.Values{}
	for _, p := range []string{"cache_size(-65536)", "temp_store(MEMORY)", fmt.Sprintf("wal_autocheckpoint(%d)", walCheckpointBytes/pageSize)} {
		wq.Add("_pragma", p)
	}
	w := sql.OpenDB(connector{drv: drv, dsn: base + "&" + wq.Encode() + "&_txlock=immediate"})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r := sql.OpenDB(connector{drv: drv, dsn: base + "&_pragma=query_only(1)&_pragma=cache_size(-16384)"})
	r.SetMaxOpenConns(maxReaders)
	r.SetMaxIdleConns(maxReaders)

	s := &Store{path: path, w: w, r: r, hub: hub.New()}
	if err := s.migrate(context.Background()); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// newFilePageSize is the page size of files Open creates; walCheckpointBytes
// the WAL size at which the writer checkpoints; maxReaders the reading
// connections.
const (
	maxReaders         = 4
	newFilePageSize    = 16384
	walCheckpointBytes = 32 << 20
)

// initFile gives a new (absent or empty) file its page size, which must be
// set before the first write and so before the connections' journal_mode
// pragma, and returns the page size of the file.
func initFile(drv *sqlite.Driver, path string) (int, error) {
	c, err := drv.Open(path)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	conn := c.(interface {
		driver.ExecerContext
		driver.QueryerContext
	})
	ctx := context.Background()
	if fi, err := os.Stat(path); err == nil && fi.Size() == 0 {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d; PRAGMA journal_mode = WAL", newFilePageSize), nil); err != nil {
			return 0, fmt.Errorf("set page size: %w", err)
		}
	}
	rows, err := conn.QueryContext(ctx, "PRAGMA page_size", nil)
	if err != nil {
		return 0, fmt.Errorf("page size: %w", err)
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return 0, fmt.Errorf("page size: %w", err)
	}
	n, ok := v[0].(int64)
	if !ok || n < 512 {
		return 0, fmt.Errorf("page size %v", v[0])
	}
	return int(n), nil
}

// Path is the file the store lives in.
func (s *Store) Path() string { return s.path }

// Close checkpoints the WAL into the main file and closes the connections.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.hub.Close()
		// A truncating checkpoint leaves a self-contained .gpkg that tools
		// reading only the main file see whole.
		_, err := s.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		s.closeErr = errors.Join(err, s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// Subscribe implements store.Store: events of writes made through this
// process. Another process writing the same file is not seen; replicas
// that must see each other use the PostGIS store.
func (s *Store) Subscribe(ctx context.Context) <-chan store.Event { return s.hub.Subscribe(ctx) }

func (s *Store) publish(e store.Event) {
	e.Local = true
	s.hub.Publish(e)
}

type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.drv.Open(c.dsn)
}

func (c connector) Driver() driver.Driver { return c.drv }

// wgs84WKT is EPSG:4326 as the GeoPackage specification's sample row
// (Annex C, Table 21) and GDAL write it.
const wgs84WKT = `GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]`

// migrations are applied in order; the number applied is kept in
// gridd_meta, since user_version belongs to the GeoPackage version.
func migrations() []string {
	return []string{
		// 1: the GeoPackage core, the layers and the attribute tables.
		`
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, '` + wgs84WKT + `', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');

CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);

CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);

CREATE TABLE gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);

CREATE TABLE grid_sets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at DATETIME NOT NULL,
  effective_from DATETIME,
  effective_to DATETIME
);

CREATE TABLE grids (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom MULTIPOLYGON,
  set_id INTEGER NOT NULL REFERENCES grid_sets(id),
  code TEXT NOT NULL,
  name TEXT,
  level TEXT NOT NULL,
  parent TEXT,
  department TEXT,
  attrs TEXT
);
CREATE UNIQUE INDEX grids_set_code ON grids(set_id, code);

CREATE TABLE incidents (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom POINT,
  external_id TEXT,
  category TEXT NOT NULL,
  source TEXT,
  description TEXT,
  reported_at DATETIME NOT NULL,
  grid_code TEXT,
  status TEXT NOT NULL,
  deadline DATETIME,
  filed_at DATETIME,
  dispatched_at DATETIME,
  handled_at DATETIME,
  closed_at DATETIME,
  reworks INTEGER NOT NULL DEFAULT 0,
  extended BOOLEAN NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX incidents_external_id ON incidents(external_id) WHERE external_id IS NOT NULL;

CREATE TABLE incident_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(fid),
  at DATETIME NOT NULL,
  by TEXT,
  from_status TEXT,
  to_status TEXT NOT NULL,
  note TEXT
);
CREATE INDEX incident_history_incident ON incident_history(incident_id, id);

CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id TEXT NOT NULL UNIQUE,
  name TEXT,
  hash BLOB NOT NULL UNIQUE,
  role TEXT NOT NULL,
  scope TEXT,
  created_at DATETIME NOT NULL,
  revoked_at DATETIME
);

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('grids', 'features', 'grids', 'Responsibility grids of every grid set, all four levels', 4326),
  ('incidents', 'features', 'incidents', 'Reported incidents', 4326),
  ('grid_sets', 'attributes', 'grid_sets', 'Grid set versions', NULL),
  ('incident_history', 'attributes', 'incident_history', 'Incident status history', NULL),
  ('api_keys', 'attributes', 'api_keys', 'API keys (hashes only)', NULL);
INSERT INTO gpkg_geometry_columns VALUES
  ('grids', 'geom', 'MULTIPOLYGON', 4326, 0, 0),
  ('incidents', 'geom', 'POINT', 4326, 0, 0);
` + rtreeSQL("grids", "geom", "fid") + rtreeSQL("incidents", "geom", "fid"),
		// 2: files made before it had an index on (reported_at, fid) for
		// the incident list, which now pages over the in-memory columns.
		// Reports arrive out of time order, and keeping that index cost a
		// fifth of the ingest.
		`DROP INDEX IF EXISTS incidents_reported;`,
	}
}

// rtreeSQL is the GeoPackage R-tree spatial index extension (Annex F.3)
// for one geometry column: the virtual table, its registration and the
// triggers that keep it in step with the feature table.
func rtreeSQL(t, c, i string) string {
	r := strings.NewReplacer("<t>", t, "<c>", c, "<i>", i)
	return r.Replace(`
INSERT INTO gpkg_extensions VALUES ('<t>', '<c>', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
CREATE VIRTUAL TABLE rtree_<t>_<c> USING rtree(id, minx, maxx, miny, maxy);
` + rtreeInsertTrigger(t, c, i) + `
CREATE TRIGGER rtree_<t>_<c>_update1 AFTER UPDATE OF <c> ON <t>
  WHEN OLD.<i> = NEW.<i> AND
       (NEW.<c> NOTNULL AND NOT ST_IsEmpty(NEW.<c>))
BEGIN
  INSERT OR REPLACE INTO rtree_<t>_<c> VALUES (
    NEW.<i>,
    ST_MinX(NEW.<c>), ST_MaxX(NEW.<c>),
    ST_MinY(NEW.<c>), ST_MaxY(NEW.<c>)
  );
END;
CREATE TRIGGER rtree_<t>_<c>_update2 AFTER UPDATE OF <c> ON <t>
  WHEN OLD.<i> = NEW.<i> AND
       (NEW.<c> ISNULL OR ST_IsEmpty(NEW.<c>))
BEGIN
  DELETE FROM rtree_<t>_<c> WHERE id = OLD.<i>;
END;
CREATE TRIGGER rtree_<t>_<c>_update3 AFTER UPDATE OF <c> ON <t>
  WHEN OLD.<i> != NEW.<i> AND
       (NEW.<c> NOTNULL AND NOT ST_IsEmpty(NEW.<c>))
BEGIN
  DELETE FROM rtree_<t>_<c> WHERE id = OLD.<i>;
  INSERT OR REPLACE INTO rtree_<t>_<c> VALUES (
    NEW.<i>,
    ST_MinX(NEW.<c>), ST_MaxX(NEW.<c>),
    ST_MinY(NEW.<c>), ST_MaxY(NEW.<c>)
  );
END;
CREATE TRIGGER rtree_<t>_<c>_update4 AFTER UPDATE ON <t>
  WHEN OLD.<i> != NEW.<i> AND
       (NEW.<c> ISNULL OR ST_IsEmpty(NEW.<c>))
BEGIN
  DELETE FROM rtree_<t>_<c> WHERE id IN (OLD.<i>, NEW.<i>);
END;
CREATE TRIGGER rtree_<t>_<c>_delete AFTER DELETE ON <t>
  WHEN old.<c> NOT NULL
BEGIN
  DELETE FROM rtree_<t>_<c> WHERE id = OLD.<i>;
END;
`)
}

// rtreeInsertTrigger is the trigger that indexes each inserted row; batch
// inserts lift it for the length of their transaction (see rtree.go).
func rtreeInsertTrigger(t, c, i string) string {
	return strings.NewReplacer("<t>", t, "<c>", c, "<i>", i).Replace(`CREATE TRIGGER rtree_<t>_<c>_insert AFTER INSERT ON <t>
  WHEN (new.<c> NOT NULL AND NOT ST_IsEmpty(NEW.<c>))
BEGIN
  INSERT OR REPLACE INTO rtree_<t>_<c> VALUES (
    NEW.<i>,
    ST_MinX(NEW.<c>), ST_MaxX(NEW.<c>),
    ST_MinY(NEW.<c>), ST_MaxY(NEW.<c>)
  );
END;`)
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var appID int64
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var tables int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	switch {
	case appID == 0 && tables == 0: // a new file
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, userVersion)); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "CREATE TABLE gridd_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO gridd_meta VALUES ('schema_version', '0')"); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	case appID != applicationID:
		return fmt.Errorf("not a GeoPackage (application_id %#x)", appID)
	}
	var version int
	if err := tx.QueryRowContext(ctx, "SELECT CAST(value AS INTEGER) FROM gridd_meta WHERE key = 'schema_version'").Scan(&version); err != nil {
		return fmt.Errorf("a GeoPackage not made by gridd (no gridd_meta): %w", err)
	}
	all := migrations()
	if version > len(all) {
		return fmt.Errorf("schema version %d is newer than this gridd knows (%d)", version, len(all))
	}
	for v := version; v < len(all); v++ {
		if _, err := tx.ExecContext(ctx, all[v]); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE gridd_meta SET value = ? WHERE key = 'schema_version'", fmt.Sprint(len(all))); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// touchContents records a change to a layer and widens its extent, which
// GDAL reports without scanning.
func touchContents(ctx context.Context, tx *sql.Tx, table string, ext *[4]float64) error {
	now := fmtTime(time.Now())
	var err error
	if ext == nil {
		_, err = tx.ExecContext(ctx, "UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", now, table)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE gpkg_contents SET last_change = ?1,
  min_x = min(coalesce(min_x, ?2), ?2), max_x = max(coalesce(max_x, ?3), ?3),
  min_y = min(coalesce(min_y, ?4), ?4), max_y = max(coalesce(max_y, ?5), ?5)
  WHERE table_name = ?6`, now, ext[0], ext[1], ext[2], ext[3], table)
	}
	if err != nil {
		return fmt.Errorf("update gpkg_contents: %w", err)
	}
	return nil
}
