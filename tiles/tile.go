package tiles

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

const (
	// MaxZoom is the deepest zoom served.
	MaxZoom = 22
	// Extent is the number of integer units across a tile (MVT 2.1 default).
	Extent = 4096
	// pixelsPerTile is the nominal screen size of a tile; buffers, cell sizes
	// and tolerances are given in these pixels.
	pixelsPerTile = 256
	// unitsPerPixel converts nominal pixels to tile units.
	unitsPerPixel = Extent / pixelsPerTile

	// maxMercatorLat is where Web Mercator makes the world square.
	maxMercatorLat = 85.05112877980659
	// mercatorHalf is half the Web Mercator world width in metres.
	mercatorHalf = orb.EarthRadius * math.Pi
)

// Layer names, used as MVT layer names, cache keys and URL path segments.
const (
	LayerGrids     = "grids"
	LayerIncidents = "incidents"
	LayerHeat      = "heat"
	LayerHotspots  = "hotspots"
)

// ErrInvalidTile marks tile coordinates outside the pyramid; handlers map
// it to 400 with errors.Is.
var ErrInvalidTile = errors.New("invalid tile coordinates")

// TileID addresses a tile in the XYZ scheme (origin top left), as in
// /tiles/{layer}/{z}/{x}/{y}.mvt.
type TileID struct {
	Z, X, Y uint32
}

// NewTileID checks z, x and y and returns the tile.
func NewTileID(z, x, y int) (TileID, error) {
	if z < 0 || z > MaxZoom {
		return TileID{}, fmt.Errorf("%w: zoom %d not in 0..%d", ErrInvalidTile, z, MaxZoom)
	}
	n := 1 << z
	if x < 0 || x >= n || y < 0 || y >= n {
		return TileID{}, fmt.Errorf("%w: %d/%d/%d: x and y must be in 0..%d", ErrInvalidTile, z, x, y, n-1)
	}
	return TileID{Z: uint32(z), X: uint32(x), Y: uint32(y)}, nil
}

// ParseTileID reads z, x and y as the URL path gives them (plain decimal).
func ParseTileID(z, x, y string) (TileID, error) {
	var v [3]int
	for i, s := range [3]string{z, x, y} {
		// Digits only: Atoi alone would accept signs.
		if s == "" || len(s) > 9 || strings.TrimLeft(s, "0123456789") != "" {
			return TileID{}, fmt.Errorf("%w: %q is not a tile coordinate", ErrInvalidTile, s)
		}
		v[i], _ = strconv.Atoi(s)
	}
	return NewTileID(v[0], v[1], v[2])
}

// Validate reports whether the tile exists in the pyramid.
func (t TileID) Validate() error {
	if t.Z > MaxZoom {
		return fmt.Errorf("%w: zoom %d not in 0..%d", ErrInvalidTile, t.Z, MaxZoom)
	}
	n := uint32(1) << t.Z
	if t.X >= n || t.Y >= n {
		return fmt.Errorf("%w: %s: x and y must be in 0..%d", ErrInvalidTile, t, n-1)
	}
	return nil
}

func (t TileID) String() string { return fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y) }

// Bound is the tile's extent in WGS84 lon/lat.
func (t TileID) Bound() orb.Bound {
	w := t.worldBound(0)
	return orb.Bound{
		Min: orb.Point{worldToLon(w.Min[0]), worldToLat(w.Max[1])},
		Max: orb.Point{worldToLon(w.Max[0]), worldToLat(w.Min[1])},
	}
}

// MercatorBound is the tile's extent in Web Mercator (EPSG:3857) metres.
func (t TileID) MercatorBound() orb.Bound {
	w := t.worldBound(0)
	return orb.Bound{
		Min: orb.Point{(w.Min[0]*2 - 1) * mercatorHalf, (1 - w.Max[1]*2) * mercatorHalf},
		Max: orb.Point{(w.Max[0]*2 - 1) * mercatorHalf, (1 - w.Min[1]*2) * mercatorHalf},
	}
}

// worldBound is the tile in world coordinates (the unit square, y down),
// grown by bufferPx nominal pixels on every side.
func (t TileID) worldBound(bufferPx float64) orb.Bound {
	size := 1 / float64(uint64(1)<<t.Z)
	pad := bufferPx / pixelsPerTile * size
	x0 := float64(t.X) * size
	y0 := float64(t.Y) * size
	return orb.Bound{
		Min: orb.Point{x0 - pad, y0 - pad},
		Max: orb.Point{x0 + size + pad, y0 + size + pad},
	}
}

// World coordinates: Web Mercator scaled to the unit square with y down, so
// that tile (z, x, y) spans [x, x+1]·2⁻ᶻ × [y, y+1]·2⁻ᶻ.

func lonToWorld(lon float64) float64 { return (lon + 180) / 360 }

func latToWorld(lat float64) float64 {
	lat = max(-maxMercatorLat, min(maxMercatorLat, lat))
	s := math.Sin(lat * math.Pi / 180)
	return 0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)
}

func worldToLon(x float64) float64 { return x*360 - 180 }

func worldToLat(y float64) float64 {
	return math.Atan(math.Sinh(math.Pi*(1-2*y))) * 180 / math.Pi
}

func toWorld(p orb.Point) orb.Point { return orb.Point{lonToWorld(p[0]), latToWorld(p[1])} }

// worldBoundOf converts a lon/lat bound to world coordinates.
func worldBoundOf(b orb.Bound) orb.Bound {
	return orb.Bound{
		Min: orb.Point{lonToWorld(b.Min[0]), latToWorld(b.Max[1])},
		Max: orb.Point{lonToWorld(b.Max[0]), latToWorld(b.Min[1])},
	}
}

// metresPerWorldUnit is the ground length of one world unit at a world y,
// for densities.
func metresPerWorldUnit(y float64) float64 {
	lat := worldToLat(y)
	return 2 * mercatorHalf * math.Cos(lat*math.Pi/180)
}
