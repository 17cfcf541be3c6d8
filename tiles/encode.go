package tiles

import (
	"encoding/binary"
	"fmt"
	"math"
)

// A small protobuf writer for the MVT 2.1 schema (vector_tile.proto). Writing
// the wire format directly keeps rendering allocation-light, makes the ring
// orientation ours to decide, and never touches caller data.

// Geometry types of vector_tile.proto.
const (
	geomPoint   = 1
	geomPolygon = 3
)

// Geometry command ids (MVT 2.1 §4.3).
const (
	cmdMoveTo    = 1
	cmdLineTo    = 2
	cmdClosePath = 7
)

// Protobuf tags (field number << 3 | wire type).
const (
	tagTileLayer    = 3<<3 | 2
	tagLayerName    = 1<<3 | 2
	tagLayerFeature = 2<<3 | 2
	tagLayerKey     = 3<<3 | 2
	tagLayerValue   = 4<<3 | 2
	tagLayerExtent  = 5<<3 | 0
	tagLayerVersion = 15<<3 | 0
	tagFeatureID    = 1<<3 | 0
	tagFeatureTags  = 2<<3 | 2
	tagFeatureType  = 3<<3 | 0
	tagFeatureGeom  = 4<<3 | 2
	tagValueString  = 1<<3 | 2
	tagValueDouble  = 3<<3 | 1
	tagValueUint    = 5<<3 | 0
	tagValueSint    = 6<<3 | 0
	tagValueBool    = 7<<3 | 0
	mvtVersion      = 2
	valueKindString = 1
	valueKindDouble = 2
	valueKindUint   = 3
	valueKindSint   = 4
	valueKindBool   = 5
)

// value is one entry of a layer's value table; comparable so that equal
// values share an index.
type value struct {
	kind uint8
	s    string
	u    uint64
	f    float64
}

func stringValue(s string) value { return value{kind: valueKindString, s: s} }

func intValue(i int64) value {
	if i < 0 {
		return value{kind: valueKindSint, u: uint64((i << 1) ^ (i >> 63))}
	}
	return value{kind: valueKindUint, u: uint64(i)}
}

// doubleValue folds -0 into 0 so that equal values share an index. Callers
// leave out NaN properties: NaN never equals itself as a map key.
func doubleValue(f float64) value {
	if f == 0 {
		f = 0
	}
	return value{kind: valueKindDouble, f: f}
}

func boolValue(b bool) value {
	if b {
		return value{kind: valueKindBool, u: 1}
	}
	return value{kind: valueKindBool}
}

// layerWriter accumulates the features of one layer.
type layerWriter struct {
	name     string
	keys     []string
	keyIdx   map[string]uint32
	vals     []value
	valIdx   map[value]uint32
	features []byte // concatenated, each with its tag and length
	count    int

	tags []uint32   // tags of the feature being built
	geom geomWriter // geometry of the feature being built
	buf  []byte     // scratch for one feature message
}

func newLayerWriter(name string) *layerWriter {
	return &layerWriter{
		name:   name,
		keyIdx: make(map[string]uint32),
		valIdx: make(map[value]uint32),
	}
}

// prop adds a property to the feature being built.
func (lw *layerWriter) prop(key string, v value) {
	ki, ok := lw.keyIdx[key]
	if !ok {
		ki = uint32(len(lw.keys))
		lw.keys = append(lw.keys, key)
		lw.keyIdx[key] = ki
	}
	vi, ok := lw.valIdx[v]
	if !ok {
		vi = uint32(len(lw.vals))
		lw.vals = append(lw.vals, v)
		lw.valIdx[v] = vi
	}
	lw.tags = append(lw.tags, ki, vi)
}

// commit writes the feature being built (its tags and geom) and resets them.
// A feature whose geometry came out empty is dropped.
func (lw *layerWriter) commit(id uint64, hasID bool, typ uint32) bool {
	defer func() {
		lw.tags = lw.tags[:0]
		lw.geom.reset()
	}()
	if len(lw.geom.cmds) == 0 {
		return false
	}
	b := lw.buf[:0]
	if hasID {
		b = appendVarint(b, tagFeatureID)
		b = appendVarint(b, id)
	}
	if len(lw.tags) > 0 {
		b = appendPacked(b, tagFeatureTags, lw.tags)
	}
	b = appendVarint(b, tagFeatureType)
	b = appendVarint(b, uint64(typ))
	b = appendPacked(b, tagFeatureGeom, lw.geom.cmds)
	lw.buf = b

	lw.features = appendVarint(lw.features, tagLayerFeature)
	lw.features = appendVarint(lw.features, uint64(len(b)))
	lw.features = append(lw.features, b...)
	lw.count++
	return true
}

// appendTo writes the layer message, with its tile-level tag, to dst.
func (lw *layerWriter) appendTo(dst []byte) []byte {
	var body []byte
	body = appendVarint(body, tagLayerName)
	body = appendString(body, lw.name)
	body = append(body, lw.features...)
	for _, k := range lw.keys {
		body = appendVarint(body, tagLayerKey)
		body = appendString(body, k)
	}
	var vb []byte
	for _, v := range lw.vals {
		vb = vb[:0]
		switch v.kind {
		case valueKindString:
			vb = appendVarint(vb, tagValueString)
			vb = appendString(vb, v.s)
		case valueKindDouble:
			vb = appendVarint(vb, tagValueDouble)
			vb = binary.LittleEndian.AppendUint64(vb, math.Float64bits(v.f))
		case valueKindUint:
			vb = appendVarint(vb, tagValueUint)
			vb = appendVarint(vb, v.u)
		case valueKindSint:
			vb = appendVarint(vb, tagValueSint)
			vb = appendVarint(vb, v.u)
		case valueKindBool:
			vb = appendVarint(vb, tagValueBool)
			vb = appendVarint(vb, v.u)
		}
		body = appendVarint(body, tagLayerValue)
		body = appendVarint(body, uint64(len(vb)))
		body = append(body, vb...)
	}
	body = appendVarint(body, tagLayerExtent)
	body = appendVarint(body, Extent)
	body = appendVarint(body, tagLayerVersion)
	body = appendVarint(body, mvtVersion)

	dst = appendVarint(dst, tagTileLayer)
	dst = appendVarint(dst, uint64(len(body)))
	return append(dst, body...)
}

// encodeTile writes the layers that have features as one tile. Layer names
// must be unique (MVT 2.1 §4.1). A tile without features is empty (zero
// bytes), which is itself a valid tile.
func encodeTile(layers ...*layerWriter) ([]byte, error) {
	var out []byte
	for i, l := range layers {
		for _, prev := range layers[:i] {
			if prev.name == l.name {
				return nil, fmt.Errorf("encode tile: duplicate layer name %q", l.name)
			}
		}
		if l.count == 0 {
			continue
		}
		out = l.appendTo(out)
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// geomWriter builds the command stream of one feature. The cursor starts at
// (0,0) for every feature (MVT 2.1 §4.3.2).
type geomWriter struct {
	cmds   []uint32
	cx, cy int32
}

func (g *geomWriter) reset() {
	g.cmds = g.cmds[:0]
	g.cx, g.cy = 0, 0
}

func command(id, count uint32) uint32 { return id&7 | count<<3 }

func zigzag(v int32) uint32 { return uint32((v << 1) ^ (v >> 31)) }

func (g *geomWriter) delta(x, y int32) {
	g.cmds = append(g.cmds, zigzag(x-g.cx), zigzag(y-g.cy))
	g.cx, g.cy = x, y
}

// point appends a single point.
func (g *geomWriter) point(x, y int32) {
	g.cmds = append(g.cmds, command(cmdMoveTo, 1))
	g.delta(x, y)
}

// ring appends a closed ring given without its closing point. The caller
// has already oriented it: positive surveyor's area in tile coordinates
// (y down) for an exterior, negative for a hole.
func (g *geomWriter) ring(pts []ipoint) {
	g.cmds = append(g.cmds, command(cmdMoveTo, 1))
	g.delta(pts[0].x, pts[0].y)
	g.cmds = append(g.cmds, command(cmdLineTo, uint32(len(pts)-1)))
	for _, p := range pts[1:] {
		g.delta(p.x, p.y)
	}
	g.cmds = append(g.cmds, command(cmdClosePath, 1))
}

func appendVarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func appendString(b []byte, s string) []byte {
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendPacked(b []byte, tag uint64, vs []uint32) []byte {
	n := 0
	for _, v := range vs {
		n += uvarintLen(uint64(v))
	}
	b = appendVarint(b, tag)
	b = appendVarint(b, uint64(n))
	for _, v := range vs {
		b = appendVarint(b, uint64(v))
	}
	return b
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
