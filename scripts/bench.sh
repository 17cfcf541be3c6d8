#!/usr/bin/env bash
# Prints the figures the README's performance table quotes. Each line is a
# Go benchmark (go test -bench) run beside the code it measures; raw output
# is kept in bench-out/. Timings vary with the machine's load: run it on a
# quiet machine and read medians, not single runs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench-out
mkdir -p "$out"
count="${BENCH_COUNT:-3}"

# With arguments, only the named groups run (e.g. `scripts/bench.sh geocode`).
only=" $* "
run() { # name pkg regex benchtime
	local name=$1 pkg=$2 re=$3 bt=$4
	if [ "$only" != "  " ] && [[ "$only" != *" $name "* ]]; then return; fi
	echo "== $name ($pkg -bench '$re' -benchtime $bt -count $count)"
	GOMAXPROCS="${GOMAXPROCS_BENCH:-}" go test -run '^$' -bench "$re" -benchtime "$bt" -count "$count" -timeout 30m "$pkg" \
		| tee "$out/$name.txt" | grep -E '^Benchmark' || true
}

# Geocoding runs on one core: GOMAXPROCS=1 for those packages.
GOMAXPROCS_BENCH=1 run geocode ./grids 'LocateBatch50k|GeocodeCSV50k' 5x
GOMAXPROCS_BENCH=1 run geocode-single ./grids 'LocateOneByOne50k' 3000000x
run load-grids ./grids 'NewIndex50k|IndexHeap50k|LoadAndIndex50k' 3x
GOMAXPROCS_BENCH=2 run geocode-2cores ./grids 'GeocodeCSV50k' 5x
run postgis-geocode ./cmd/gridd 'PostGISGeocode50k' 3x
run store-gpkg ./store/gpkg 'IngestNDJSON|InsertIncidents|LoadColumns' 3x
run load-grids-store ./store/gpkg 'LoadGridSetAndIndex50k' 3x
run store-postgis ./store/postgis '.' 3x
run import ./cmd/gridd 'ImportIncidents' 2x
run incidents ./incidents '.' 1s
run hotspot ./hotspot 'GiStar1M|Neighbours1M|Emerging100kx52|KDEBinned' 3x
run analytics ./api 'Analytics' 10x
run list ./api 'IncidentList' 20x
run tiles ./tiles 'GridTile|HeatTile|IncidentTile' 1s
run tiles-http ./api 'Tiles' 2000x
run validate ./grids/topo 'Validate50k' 3x

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }
metric() { # file benchmark unit
	[ -f "$out/$1.txt" ] || return 0
	grep -E "^$2(-[0-9]+)? " "$out/$1.txt" | awk -v u="$3" '{for (i=2;i<=NF;i++) if ($i==u) print $(i-1)}' | median
}
ours=$(metric geocode BenchmarkLocateBatch50k points/s)
pg=$(metric postgis-geocode BenchmarkPostGISGeocode50k points/s)
echo
echo "== summary (medians)"
echo "geocode batch, 1 core, 50k grids: ${ours:-?} points/s"
echo "geocode one by one, 1 core:        $(metric geocode-single BenchmarkLocateOneByOne50k points/s) points/s"
echo "gridd geocode CSV, 1 core:         $(metric geocode BenchmarkGeocodeCSV50k points/s) points/s"
echo "gridd geocode CSV, 2 cores:        $(metric geocode-2cores BenchmarkGeocodeCSV50k points/s) points/s"
echo "PostGIS ST_Covers join, 2 cores:   ${pg:-?} points/s"
if [ -n "$ours" ] && [ -n "$pg" ]; then
	awk -v a="$ours" -v b="$pg" 'BEGIN {printf "ratio gridd/PostGIS:              %.1fx\n", a/b}'
fi
echo "index 50k grids:                   $(metric load-grids BenchmarkNewIndex50k ns/op) ns, $(metric load-grids BenchmarkIndexHeap50k heap-MB) MB heap"
echo "load GeoJSON + index 50k grids:    $(metric load-grids BenchmarkLoadAndIndex50k ns/op) ns"
echo "load from GeoPackage + index 50k:  $(metric load-grids-store BenchmarkLoadGridSetAndIndex50k ns/op) ns"
echo "NDJSON ingest, GeoPackage:         $(metric store-gpkg BenchmarkIngestNDJSON incidents/s) incidents/s, $(metric store-gpkg BenchmarkIngestNDJSON cpu-us/incident) CPU-us each"
echo "  the same in time order (a feed):  $(metric store-gpkg BenchmarkIngestNDJSONFeed incidents/s) incidents/s, $(metric store-gpkg BenchmarkIngestNDJSONFeed cpu-us/incident) CPU-us each"
echo "NDJSON ingest, PostGIS:            $(metric store-postgis BenchmarkIngestNDJSON incidents/s) incidents/s"
echo "gridd import incidents (reports):  $(metric import BenchmarkImportIncidents/reports incidents/s) incidents/s"
echo "gridd import incidents (past):     $(metric import BenchmarkImportIncidents/past-cases incidents/s) incidents/s"
echo "load 1M incidents, GeoPackage:     $(metric store-gpkg BenchmarkLoadColumns ns/op) ns, $(metric store-gpkg BenchmarkLoadColumns column-bytes/incident) bytes an incident"
echo "load 1M incidents, PostGIS:        $(metric store-postgis BenchmarkLoadColumns ns/op) ns"
echo "incident list page of 100 over 1M: $(metric list BenchmarkIncidentList/middle-page ms/page) ms"
