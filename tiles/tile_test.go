package tiles

import (
	"errors"
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func TestNewTileIDRejectsBadCoordinates(t *testing.T) {
	tests := []struct {
		name    string
		z, x, y int
		ok      bool
	}{
		{name: "root", z: 0, x: 0, y: 0, ok: true},
		{name: "deepest corner", z: 22, x: 1<<22 - 1, y: 1<<22 - 1, ok: true},
		{name: "negative zoom", z: -1},
		{name: "zoom too deep", z: 23},
		{name: "x past edge", z: 3, x: 8, y: 0},
		{name: "y past edge", z: 3, x: 0, y: 8},
		{name: "negative x", z: 3, x: -1, y: 0},
		{name: "negative y", z: 3, x: 0, y: -1},
		{name: "root only has one tile", z: 0, x: 1, y: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := NewTileID(tc.z, tc.x, tc.y)
			if tc.ok {
				if err != nil {
					t.Fatalf("NewTileID: %v", err)
				}
				if err := id.Validate(); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidTile) {
				t.Fatalf("NewTileID(%d,%d,%d) error = %v, want ErrInvalidTile", tc.z, tc.x, tc.y, err)
			}
		})
	}
}

func TestParseTileID(t *testing.T) {
	tests := []struct {
		name    string
		z, x, y string
		want    TileID
		ok      bool
	}{
		{name: "plain", z: "10", x: "843", y: "387", want: TileID{10, 843, 387}, ok: true},
		{name: "leading zeros", z: "02", x: "001", y: "3", want: TileID{2, 1, 3}, ok: true},
		{name: "sign", z: "+2", x: "1", y: "1"},
		{name: "minus", z: "2", x: "-1", y: "1"},
		{name: "empty", z: "", x: "1", y: "1"},
		{name: "extension left on", z: "2", x: "1", y: "1.mvt"},
		{name: "huge", z: "2", x: "99999999999999999999", y: "1"},
		{name: "out of range", z: "2", x: "4", y: "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTileID(tc.z, tc.x, tc.y)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidTile) {
					t.Fatalf("error = %v, want ErrInvalidTile", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseTileID = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestValidateZeroValueAndOutOfRange(t *testing.T) {
	tests := []struct {
		name string
		id   TileID
		ok   bool
	}{
		{name: "zero value is the root", id: TileID{}, ok: true},
		{name: "zoom 23", id: TileID{Z: 23}},
		{name: "x at 2^z", id: TileID{Z: 4, X: 16}},
		{name: "huge y", id: TileID{Z: 4, Y: math.MaxUint32}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.id.Validate()
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidTile)) {
				t.Fatalf("Validate(%v) = %v", tc.id, err)
			}
		})
	}
}

// Reference bounds: mercantile's README (bounds and xy_bounds of
// 10/486/332) and PostGIS's ST_TileEnvelope documentation (0/0/0, 2/1/1).
func TestTileBoundsAgainstPublishedValues(t *testing.T) {
	tests := []struct {
		name   string
		id     TileID
		lonLat orb.Bound
		merc   orb.Bound
	}{
		{
			name:   "mercantile 10/486/332",
			id:     TileID{10, 486, 332},
			lonLat: orb.Bound{Min: orb.Point{-9.140625, 53.12040528310657}, Max: orb.Point{-8.7890625, 53.33087298301705}},
			merc:   orb.Bound{Min: orb.Point{-1017529.7205322663, 7005300.768279833}, Max: orb.Point{-978393.962050256, 7044436.526761846}},
		},
		{
			name:   "ST_TileEnvelope 0/0/0",
			id:     TileID{0, 0, 0},
			lonLat: orb.Bound{Min: orb.Point{-180, -85.0511287798066}, Max: orb.Point{180, 85.0511287798066}},
			merc:   orb.Bound{Min: orb.Point{-20037508.342789244, -20037508.342789244}, Max: orb.Point{20037508.342789244, 20037508.342789244}},
		},
		{
			name:   "ST_TileEnvelope 2/1/1",
			id:     TileID{2, 1, 1},
			lonLat: orb.Bound{Min: orb.Point{-90, 0}, Max: orb.Point{0, 66.51326044311186}},
			merc:   orb.Bound{Min: orb.Point{-10018754.171394622, 0}, Max: orb.Point{0, 10018754.171394622}},
		},
	}
	near := func(a, b orb.Bound, tol float64) bool {
		return math.Abs(a.Min[0]-b.Min[0]) <= tol && math.Abs(a.Min[1]-b.Min[1]) <= tol &&
			math.Abs(a.Max[0]-b.Max[0]) <= tol && math.Abs(a.Max[1]-b.Max[1]) <= tol
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.id.Bound(); !near(got, tc.lonLat, 1e-9) {
				t.Errorf("Bound = %v, want %v", got, tc.lonLat)
			}
			if got := tc.id.MercatorBound(); !near(got, tc.merc, 1e-6) {
				t.Errorf("MercatorBound = %v, want %v", got, tc.merc)
			}
		})
	}
}

func TestTestCityFitsItsTile(t *testing.T) {
	b := cityTile.Bound()
	city := orb.Bound{Min: orb.Point{cityW, cityS}, Max: orb.Point{cityE, cityN}}
	if !b.Contains(city.Min) || !b.Contains(city.Max) {
		t.Fatalf("test city %v is not inside %v (%v)", city, cityTile, b)
	}
}
