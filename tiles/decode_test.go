package tiles

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

// A minimal MVT reader for tests, written from vector_tile.proto and the
// MVT 2.1 geometry rules, independent of the encoder. The outside decoders
// (decoder_test.go) check the same tiles with published readers.

type decLayer struct {
	name     string
	version  uint64
	extent   uint64
	features []decFeature
}

type decFeature struct {
	id    uint64
	hasID bool
	typ   uint64
	props map[string]any
	// points for point features; rings (closing point not repeated) for
	// polygons.
	points [][2]int64
	rings  [][][2]int64
}

func decodeTile(t testing.TB, b []byte) []decLayer {
	t.Helper()
	layers, err := decodeTileErr(b)
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	return layers
}

type pbReader struct {
	b []byte
	i int
}

func (r *pbReader) done() bool { return r.i >= len(r.b) }

func (r *pbReader) varint() (uint64, error) {
	v, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		return 0, fmt.Errorf("bad varint at %d", r.i)
	}
	r.i += n
	return v, nil
}

func (r *pbReader) bytes() ([]byte, error) {
	n, err := r.varint()
	if err != nil {
		return nil, err
	}
	if r.i+int(n) > len(r.b) {
		return nil, fmt.Errorf("length %d past end", n)
	}
	out := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	return out, nil
}

func (r *pbReader) skip(wire uint64) error {
	switch wire {
	case 0:
		_, err := r.varint()
		return err
	case 1:
		r.i += 8
	case 2:
		_, err := r.bytes()
		return err
	case 5:
		r.i += 4
	default:
		return fmt.Errorf("wire type %d", wire)
	}
	return nil
}

func decodeTileErr(b []byte) ([]decLayer, error) {
	var out []decLayer
	r := &pbReader{b: b}
	for !r.done() {
		tag, err := r.varint()
		if err != nil {
			return nil, err
		}
		if tag != 3<<3|2 {
			if err := r.skip(tag & 7); err != nil {
				return nil, err
			}
			continue
		}
		lb, err := r.bytes()
		if err != nil {
			return nil, err
		}
		l, err := decodeLayer(lb)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

func decodeLayer(b []byte) (decLayer, error) {
	l := decLayer{version: 1, extent: 4096}
	var keys []string
	var vals []any
	var feats [][]byte
	r := &pbReader{b: b}
	for !r.done() {
		tag, err := r.varint()
		if err != nil {
			return l, err
		}
		switch tag {
		case 1<<3 | 2:
			s, err := r.bytes()
			if err != nil {
				return l, err
			}
			l.name = string(s)
		case 2<<3 | 2:
			f, err := r.bytes()
			if err != nil {
				return l, err
			}
			feats = append(feats, f)
		case 3<<3 | 2:
			s, err := r.bytes()
			if err != nil {
				return l, err
			}
			keys = append(keys, string(s))
		case 4<<3 | 2:
			vb, err := r.bytes()
			if err != nil {
				return l, err
			}
			v, err := decodeValue(vb)
			if err != nil {
				return l, err
			}
			vals = append(vals, v)
		case 5<<3 | 0:
			if l.extent, err = r.varint(); err != nil {
				return l, err
			}
		case 15<<3 | 0:
			if l.version, err = r.varint(); err != nil {
				return l, err
			}
		default:
			if err := r.skip(tag & 7); err != nil {
				return l, err
			}
		}
	}
	for _, fb := range feats {
		f, err := decodeFeature(fb, keys, vals)
		if err != nil {
			return l, fmt.Errorf("layer %s: %w", l.name, err)
		}
		l.features = append(l.features, f)
	}
	return l, nil
}

func decodeValue(b []byte) (any, error) {
	r := &pbReader{b: b}
	tag, err := r.varint()
	if err != nil {
		return nil, err
	}
	switch tag {
	case 1<<3 | 2:
		s, err := r.bytes()
		return string(s), err
	case 2<<3 | 5:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b[r.i:]))), nil
	case 3<<3 | 1:
		return math.Float64frombits(binary.LittleEndian.Uint64(b[r.i:])), nil
	case 4<<3 | 0:
		v, err := r.varint()
		return int64(v), err
	case 5<<3 | 0:
		v, err := r.varint()
		return int64(v), err
	case 6<<3 | 0:
		v, err := r.varint()
		return int64(v>>1) ^ -int64(v&1), err
	case 7<<3 | 0:
		v, err := r.varint()
		return v != 0, err
	}
	return nil, fmt.Errorf("value tag %d", tag)
}

func decodeFeature(b []byte, keys []string, vals []any) (decFeature, error) {
	f := decFeature{props: map[string]any{}}
	var geom []uint32
	r := &pbReader{b: b}
	for !r.done() {
		tag, err := r.varint()
		if err != nil {
			return f, err
		}
		switch tag {
		case 1<<3 | 0:
			f.id, err = r.varint()
			f.hasID = true
		case 2<<3 | 2:
			pb, err2 := r.bytes()
			if err2 != nil {
				return f, err2
			}
			pr := &pbReader{b: pb}
			for !pr.done() {
				k, err := pr.varint()
				if err != nil {
					return f, err
				}
				v, err := pr.varint()
				if err != nil {
					return f, err
				}
				if int(k) >= len(keys) || int(v) >= len(vals) {
					return f, fmt.Errorf("tag %d/%d out of range", k, v)
				}
				if _, dup := f.props[keys[k]]; dup {
					return f, fmt.Errorf("key %s twice", keys[k])
				}
				f.props[keys[k]] = vals[v]
			}
		case 3<<3 | 0:
			f.typ, err = r.varint()
		case 4<<3 | 2:
			gb, err2 := r.bytes()
			if err2 != nil {
				return f, err2
			}
			gr := &pbReader{b: gb}
			for !gr.done() {
				v, err := gr.varint()
				if err != nil {
					return f, err
				}
				geom = append(geom, uint32(v))
			}
		default:
			err = r.skip(tag & 7)
		}
		if err != nil {
			return f, err
		}
	}
	return f, decodeGeometry(&f, geom)
}

func decodeGeometry(f *decFeature, g []uint32) error {
	var x, y int64
	var ring [][2]int64
	unzig := func(v uint32) int64 { return int64(v>>1) ^ -int64(v&1) }
	for i := 0; i < len(g); {
		id, count := g[i]&7, int(g[i]>>3)
		i++
		switch id {
		case 1, 2:
			if i+2*count > len(g) {
				return fmt.Errorf("command past end")
			}
			if id == 1 && f.typ == 3 && (count != 1 || ring != nil) {
				return fmt.Errorf("polygon MoveTo count %d or ring not closed", count)
			}
			for k := 0; k < count; k++ {
				x += unzig(g[i])
				y += unzig(g[i+1])
				i += 2
				switch f.typ {
				case 1:
					f.points = append(f.points, [2]int64{x, y})
				case 3:
					ring = append(ring, [2]int64{x, y})
				}
			}
		case 7:
			if f.typ != 3 || len(ring) < 3 {
				return fmt.Errorf("ClosePath on a ring of %d points", len(ring))
			}
			f.rings = append(f.rings, ring)
			ring = nil
		default:
			return fmt.Errorf("unknown command %d", id)
		}
	}
	if ring != nil {
		return fmt.Errorf("polygon ring not closed")
	}
	return nil
}

// surveyorArea2 is twice the MVT 2.1 §4.3.4.4 area of a ring.
func surveyorArea2(r [][2]int64) int64 {
	var s int64
	for i := range r {
		j := (i + 1) % len(r)
		s += r[i][0]*r[j][1] - r[j][0]*r[i][1]
	}
	return s
}

// polygons groups a feature's rings the way MVT 2.1 says a reader must:
// each positive ring starts a polygon, negative rings are its holes. It
// fails when the first ring is not an exterior.
func (f decFeature) polygons() ([][][][2]int64, error) {
	var out [][][][2]int64
	for i, r := range f.rings {
		a := surveyorArea2(r)
		switch {
		case a > 0:
			out = append(out, [][][2]int64{r})
		case a < 0 && i > 0:
			out[len(out)-1] = append(out[len(out)-1], r)
		default:
			return nil, fmt.Errorf("ring %d has area %d", i, a)
		}
	}
	return out, nil
}

// area2 is twice the feature's area (exteriors minus holes).
func (f decFeature) area2() int64 {
	var s int64
	for _, r := range f.rings {
		s += surveyorArea2(r)
	}
	return s
}

func layerByName(ls []decLayer, name string) *decLayer {
	for i := range ls {
		if ls[i].name == name {
			return &ls[i]
		}
	}
	return nil
}
