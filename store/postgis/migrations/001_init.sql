-- gridd schema 1: grid sets and grids, incidents partitioned by month, their
-- history, API keys.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE grid_sets (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name           text NOT NULL,
  status         text NOT NULL CHECK (status IN ('draft', 'published')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  effective_from timestamptz,
  effective_to   timestamptz
);

CREATE TABLE grids (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  set_id     bigint NOT NULL REFERENCES grid_sets (id),
  code       text NOT NULL,
  name       text,
  level      text NOT NULL,
  parent     text,
  department text,
  attrs      jsonb,
  geom       geometry(MultiPolygon, 4326),
  UNIQUE (set_id, code)
);
CREATE INDEX grids_geom ON grids USING gist (geom);

-- A unique index on a partitioned table must include the partition key, so
-- neither the id nor the external id could be unique across months in
-- incidents itself. This narrow table holds both, and the reported_at that
-- leads a lookup by id to its partition.
CREATE SEQUENCE incident_id_seq;
CREATE TABLE incident_keys (
  id          bigint PRIMARY KEY,
  external_id text UNIQUE,
  reported_at timestamptz NOT NULL
);

CREATE TABLE incidents (
  id            bigint NOT NULL, -- always in incident_keys (same transaction); no FK check per row
  external_id   text,
  category      text NOT NULL,
  source        text,
  description   text,
  reported_at   timestamptz NOT NULL,
  geom          geometry(Point, 4326) NOT NULL,
  grid_code     text,
  status        text NOT NULL,
  deadline      timestamptz,
  filed_at      timestamptz,
  dispatched_at timestamptz,
  handled_at    timestamptz,
  closed_at     timestamptz,
  reworks       integer NOT NULL DEFAULT 0,
  extended      boolean NOT NULL DEFAULT false,
  PRIMARY KEY (id, reported_at)
) PARTITION BY RANGE (reported_at);
-- Monthly partitions are created on demand before rows arrive; the default
-- partition only catches what would otherwise fail.
CREATE TABLE incidents_default PARTITION OF incidents DEFAULT;
CREATE INDEX incidents_geom ON incidents USING gist (geom);
CREATE INDEX incidents_reported ON incidents (reported_at, id);
CREATE INDEX incidents_grid ON incidents (grid_code text_pattern_ops);

CREATE TABLE incident_history (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incident_keys (id),
  at          timestamptz NOT NULL,
  by          text,
  from_status text,
  to_status   text NOT NULL,
  note        text
);
CREATE INDEX incident_history_incident ON incident_history (incident_id, id);

CREATE TABLE api_keys (
  id         text PRIMARY KEY,
  name       text,
  hash       bytea NOT NULL UNIQUE,
  role       text NOT NULL,
  scope      text,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
