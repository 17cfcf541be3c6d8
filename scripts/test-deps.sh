#!/usr/bin/env bash
# Installs and starts what the tests need, when it is missing: PostgreSQL
# with PostGIS (unless GRIDD_TEST_DATABASE_URL names a server), GDAL's
# command-line tools, and the npm packages of the decoder and browser tests.
# Debian's packages only; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "test-deps: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
	if [ -z "$apt_updated" ]; then
		log "apt-get update"
		as_root apt-get update -qq
		apt_updated=1
	fi
	log "apt-get install $*"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- PostgreSQL + PostGIS ---------------------------------------------------
PGURL="${GRIDD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"

if ! command -v psql >/dev/null; then
	apt_install postgresql-client
fi

pg_up() { psql "$PGURL" -Atqc 'select 1' >/dev/null 2>&1; }

if [ -z "${GRIDD_TEST_DATABASE_URL:-}" ] && ! pg_up; then
	if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
		apt_install postgresql
	fi
	ver="$(ls /etc/postgresql | sort -V | tail -1)"
	hba="/etc/postgresql/$ver/main/pg_hba.conf"
	# A test server on loopback: trust local connections as user postgres.
	if ! grep -q '^# gridd-test' "$hba"; then
		log "configuring trust auth on loopback in $hba"
		as_root sed -i '1i # gridd-test: trust loopback for the test suite\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$hba"
	fi
	log "starting PostgreSQL $ver"
	as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main restart
	for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! pg_up; then
	log "cannot connect to PostgreSQL at $PGURL"
	exit 1
fi

has_postgis() { [ "$(psql "$PGURL" -Atqc "select count(*) from pg_available_extensions where name='postgis'")" = 1 ]; }
if ! has_postgis; then
	if [ -n "${GRIDD_TEST_DATABASE_URL:-}" ]; then
		log "the server at GRIDD_TEST_DATABASE_URL has no PostGIS extension available"
		exit 1
	fi
	major="$(psql "$PGURL" -Atqc 'show server_version_num')"
	major="$((major / 10000))"
	apt_install "postgresql-$major-postgis-3"
	has_postgis || { log "PostGIS still unavailable after installing postgresql-$major-postgis-3"; exit 1; }
fi

# --- GDAL (ogrinfo reads MVT, GeoPackage and OGC API – Features) ------------
if ! command -v ogrinfo >/dev/null; then
	apt_install gdal-bin
fi

# --- npm packages of the decoder and browser tests --------------------------
for dir in tiles/testdata/decoder web/e2e; do
	if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
		if ! command -v npm >/dev/null; then
			apt_install nodejs npm
		fi
		log "npm ci in $dir"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	fi
done

# --- Chromium for the dashboard's browser test ------------------------------
if [ -f web/e2e/package.json ] && ! command -v chromium >/dev/null; then
	apt_install chromium
fi

log "ready"
