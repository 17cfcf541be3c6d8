package gpkg

import (
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"modernc.org/sqlite"
)

// GeoPackage binary geometry (GeoPackage 1.3 §2.1.3): "GP", version 0, a
// flags byte, the srs_id, an optional envelope, then standard WKB.
const (
	gpVersion = 0
	srsWGS84  = 4326

	flagLittleEndian = 0x01
	flagEmpty        = 0x10
	envelopeShift    = 1 // bits 1-3: envelope contents indicator
	envelopeXY       = 1 // [minx, maxx, miny, maxy]
)

// envelopeLen is the envelope size in bytes for each indicator value.
func envelopeLen(indicator byte) (int, error) {
	switch indicator {
	case 0:
		return 0, nil
	case 1:
		return 32, nil
	case 2, 3:
		return 48, nil
	case 4:
		return 64, nil
	}
	return 0, fmt.Errorf("gpkg geometry: invalid envelope indicator %d", indicator)
}

// encodePoint writes a point without envelope, as GDAL does: the envelope
// of a point is the point.
func encodePoint(lon, lat float64) []byte {
	return appendPoint(make([]byte, 0, pointBytes), lon, lat)
}

// pointBytes is the length of an encoded point: the 8-byte header, then
// WKB's byte order, type and two coordinates.
const pointBytes = 8 + 1 + 4 + 16

// appendPoint appends encodePoint(lon, lat).
func appendPoint(b []byte, lon, lat float64) []byte {
	b = append(b, 'G', 'P', gpVersion, flagLittleEndian)
	b = binary.LittleEndian.AppendUint32(b, srsWGS84)
	b = append(b, 1) // WKB little endian
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(lon))
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(lat))
}

// encodeGeometry writes g with an XY envelope (the empty flag and no
// envelope for an empty geometry).
func encodeGeometry(g orb.Geometry) ([]byte, error) {
	body, err := wkb.Marshal(g, binary.LittleEndian)
	if err != nil {
		return nil, fmt.Errorf("encode geometry: %w", err)
	}
	empty := isEmpty(g)
	hdr := make([]byte, 8, 8+32+len(body))
	hdr[0], hdr[1], hdr[2] = 'G', 'P', gpVersion
	binary.LittleEndian.PutUint32(hdr[4:], srsWGS84)
	if empty {
		hdr[3] = flagLittleEndian | flagEmpty
	} else {
		hdr[3] = flagLittleEndian | envelopeXY<<envelopeShift
		bd := g.Bound()
		for _, v := range []float64{bd.Min[0], bd.Max[0], bd.Min[1], bd.Max[1]} {
			hdr = binary.LittleEndian.AppendUint64(hdr, math.Float64bits(v))
		}
	}
	return append(hdr, body...), nil
}

func isEmpty(g orb.Geometry) bool {
	switch t := g.(type) {
	case orb.MultiPolygon:
		for _, p := range t {
			if len(p) > 0 && len(p[0]) > 0 {
				return false
			}
		}
		return true
	case orb.Polygon:
		return len(t) == 0 || len(t[0]) == 0
	}
	return g == nil
}

// header parses the fixed part of a GeoPackage geometry: the WKB offset,
// whether it is flagged empty, and the envelope when present.
func header(b []byte) (wkbOff int, empty bool, env []float64, err error) {
	if len(b) < 8 || b[0] != 'G' || b[1] != 'P' {
		return 0, false, nil, errors.New("gpkg geometry: missing GP magic")
	}
	if b[2] != gpVersion {
		return 0, false, nil, fmt.Errorf("gpkg geometry: unsupported version %d", b[2])
	}
	flags := b[3]
	if flags&0x20 != 0 {
		return 0, false, nil, errors.New("gpkg geometry: extended geometry types are not supported")
	}
	n, err := envelopeLen(flags >> envelopeShift & 0x07)
	if err != nil {
		return 0, false, nil, err
	}
	if len(b) < 8+n {
		return 0, false, nil, errors.New("gpkg geometry: truncated envelope")
	}
	var order binary.ByteOrder = binary.BigEndian
	if flags&flagLittleEndian != 0 {
		order = binary.LittleEndian
	}
	for i := 0; i < n && i < 32; i += 8 {
		env = append(env, math.Float64frombits(order.Uint64(b[8+i:])))
	}
	return 8 + n, flags&flagEmpty != 0, env, nil
}

// decodeGeometry reads a GeoPackage geometry blob.
func decodeGeometry(b []byte) (orb.Geometry, error) {
	off, _, _, err := header(b)
	if err != nil {
		return nil, err
	}
	g, err := wkb.Unmarshal(b[off:])
	if err != nil {
		return nil, fmt.Errorf("gpkg geometry: %w", err)
	}
	return g, nil
}

// decodePoint reads a point blob without allocating.
func decodePoint(b []byte) (lon, lat float64, err error) {
	off, _, _, err := header(b)
	if err != nil {
		return 0, 0, err
	}
	w := b[off:]
	if len(w) < 21 {
		return 0, 0, errors.New("gpkg geometry: truncated point")
	}
	var order binary.ByteOrder = binary.BigEndian
	if w[0] == 1 {
		order = binary.LittleEndian
	}
	if typ := order.Uint32(w[1:]); typ != 1 {
		return 0, 0, fmt.Errorf("gpkg geometry: want a point, got WKB type %d", typ)
	}
	return math.Float64frombits(order.Uint64(w[5:])), math.Float64frombits(order.Uint64(w[13:])), nil
}

// bounds is the [minx, maxx, miny, maxy] of a blob: from its envelope when
// it has one, else from its WKB.
func bounds(b []byte) (env [4]float64, empty bool, err error) {
	off, empty, e, err := header(b)
	if err != nil || empty {
		return env, empty, err
	}
	if len(e) == 4 {
		copy(env[:], e)
		return env, false, nil
	}
	if len(b[off:]) >= 21 {
		if lon, lat, err := decodePoint(b); err == nil {
			return [4]float64{lon, lon, lat, lat}, math.IsNaN(lon), nil
		}
	}
	g, err := decodeGeometry(b)
	if err != nil {
		return env, false, err
	}
	if isEmpty(g) {
		return env, true, nil
	}
	bd := g.Bound()
	return [4]float64{bd.Min[0], bd.Max[0], bd.Min[1], bd.Max[1]}, false, nil
}

// registerSpatialFunctions adds the SQL functions the GeoPackage R-tree
// triggers call (ST_IsEmpty, ST_MinX, ST_MaxX, ST_MinY, ST_MaxY). GDAL and
// QGIS bring their own; gridd's connections need these to write at all.
func registerSpatialFunctions(d *sqlite.Driver) error {
	bound := func(i int) func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
		return func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			b, ok := args[0].([]byte)
			if !ok {
				return nil, nil
			}
			env, empty, err := bounds(b)
			if err != nil {
				return nil, err
			}
			if empty {
				return nil, nil
			}
			return env[i], nil
		}
	}
	funcs := map[string]func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error){
		"ST_MinX": bound(0), "ST_MaxX": bound(1), "ST_MinY": bound(2), "ST_MaxY": bound(3),
		"ST_IsEmpty": func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			b, ok := args[0].([]byte)
			if !ok {
				return nil, nil
			}
			_, empty, err := bounds(b)
			if err != nil {
				return nil, err
			}
			if empty {
				return int64(1), nil
			}
			return int64(0), nil
		},
	}
	for name, fn := range funcs {
		// The blob arguments are read during the call only, so SQLite's own
		// memory can be lent to them without a copy.
		if err := d.RegisterFunction(name, &sqlite.FunctionImpl{NArgs: 1, Deterministic: true, Scalar: fn, VolatileArgs: true}); err != nil {
			return fmt.Errorf("register %s: %w", name, err)
		}
	}
	return nil
}
