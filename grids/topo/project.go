package topo

import (
	"math"

	"github.com/paulmach/orb"
)

// WGS84 ellipsoid.
const (
	wgs84A  = 6378137.0
	wgs84F  = 1 / 298.257223563
	wgs84E2 = wgs84F * (2 - wgs84F)
)

// projection is a local equirectangular (plate carrée) projection about a
// centre, scaled with the WGS84 radii of curvature there so that one unit is
// one metre at the centre:
//
//	x = N(φ0)·cos φ0·(λ−λ0),  y = M(φ0)·(φ−φ0)
//
// It is affine in lon/lat, so straight edges stay straight and every
// incidence of the lon/lat plane (shared vertices, a vertex on an edge) is
// kept: overlays give the results of the GeoJSON planar model (RFC 7946:
// an edge is a straight line in lon/lat). Its own area scale drifts with
// latitude (0.37 % per 0.25° at 40°N), so areas are not taken from it but
// integrated on the ellipsoid (ringAreaM2); lengths are rescaled per edge.
type projection struct {
	lon0, lat0 float64
	kx, ky     float64 // metres per degree at the centre
	f0         float64 // zoneIntegral at the centre, subtracted for precision
}

func newProjection(b orb.Bound) projection {
	c := b.Center()
	if math.IsNaN(c[0]) || math.IsInf(c[0], 0) || math.IsNaN(c[1]) || math.IsInf(c[1], 0) {
		c = orb.Point{}
	}
	m, n := radii(c[1])
	phi := c[1] * math.Pi / 180
	return projection{
		lon0: c[0],
		lat0: c[1],
		kx:   n * math.Cos(phi) * math.Pi / 180,
		ky:   m * math.Pi / 180,
		f0:   zoneIntegral(math.Sin(phi)),
	}
}

// radii returns the meridional (M) and prime-vertical (N) radii of
// curvature of WGS84 at latitude lat (degrees).
func radii(lat float64) (m, n float64) {
	s := math.Sin(lat * math.Pi / 180)
	w := 1 - wgs84E2*s*s
	n = wgs84A / math.Sqrt(w)
	m = wgs84A * (1 - wgs84E2) / (w * math.Sqrt(w))
	return m, n
}

func (p projection) fwd(lon, lat float64) xy {
	return xy{(lon - p.lon0) * p.kx, (lat - p.lat0) * p.ky}
}

func (p projection) inv(q xy) orb.Point {
	return orb.Point{p.lon0 + q.x/p.kx, p.lat0 + q.y/p.ky}
}

// latOf is the latitude of a projected y.
func (p projection) latOf(y float64) float64 { return p.lat0 + y/p.ky }

// zoneIntegral is F(φ) = ∫₀^φ M·N·cos φ' dφ', as a function of s = sin φ:
// a²(1−e²)·[s/(2(1−e²s²)) + atanh(e·s)/(2e)]. The area of a region of the
// ellipsoid is ∬ M·N·cos φ dφ dλ = −∮ F(φ) dλ around its boundary.
func zoneIntegral(s float64) float64 {
	w := 1 - wgs84E2*s*s
	return wgs84A * wgs84A * (1 - wgs84E2) * (s/(2*w) + atanhESOverE(s)/2)
}

// atanhESOverE is atanh(e·s)/e = Σ e^(2k)·s^(2k+1)/(2k+1), summed to k = 9
// (e² < 0.0067, so the first term left out is under 1e-20 of the sum):
// a few multiplications instead of a logarithm, on the hot path of areas.
func atanhESOverE(s float64) float64 {
	x := wgs84E2 * s * s
	sum := 1.0 / 19
	for k := 8; k >= 0; k-- {
		sum = 1/float64(2*k+1) + x*sum
	}
	return s * sum
}

// areaElement is F'(φ) = M·N·cos φ.
func areaElement(sin, cos float64) float64 {
	w := 1 - wgs84E2*sin*sin
	return wgs84A * wgs84A * (1 - wgs84E2) * cos / (w * w)
}

// maxEdgeDLat bounds, in radians, the latitude span integrated in one step.
const maxEdgeDLat = 0.001

// ringAreaM2 is the signed area in m² on the WGS84 ellipsoid of a projected
// ring whose edges are straight in lon/lat (positive counter-clockwise):
// −∮ F(φ) dλ, each edge by the trapezoid rule with its end correction
// (exact for cubic F; an edge spanning more than maxEdgeDLat is cut).
func (p projection) ringAreaM2(r ring) float64 {
	n := len(r)
	if n < 3 {
		return 0
	}
	type vert struct{ lam, phi, g, f float64 }
	at := func(lam, phi float64) vert {
		s, c := math.Sincos(phi)
		return vert{lam, phi, zoneIntegral(s) - p.f0, areaElement(s, c)}
	}
	of := func(q xy) vert {
		return at((q.x/p.kx)*math.Pi/180, (p.lat0+q.y/p.ky)*math.Pi/180)
	}
	step := func(a, b vert) float64 {
		dphi := b.phi - a.phi
		return (b.lam - a.lam) * ((a.g+b.g)/2 - dphi*(b.f-a.f)/12)
	}
	var sum float64
	first := of(r[0])
	prev := first
	for i := 1; i <= n; i++ {
		cur := first
		if i < n {
			cur = of(r[i])
		}
		if k := math.Ceil(math.Abs(cur.phi-prev.phi) / maxEdgeDLat); k > 1 {
			a := prev
			for j := 1.0; j < k; j++ {
				b := at(prev.lam+(cur.lam-prev.lam)*j/k, prev.phi+(cur.phi-prev.phi)*j/k)
				sum += step(a, b)
				a = b
			}
			sum += step(a, cur)
		} else {
			sum += step(prev, cur)
		}
		prev = cur
	}
	return -sum
}

// segmentLength is the length in metres of a projected segment, each axis
// rescaled at the segment's mid-latitude.
func (p projection) segmentLength(a, b xy) float64 {
	lat := p.latOf((a.y + b.y) / 2)
	m, n := radii(lat)
	dx := (b.x - a.x) / p.kx * n * math.Cos(lat*math.Pi/180) * math.Pi / 180
	dy := (b.y - a.y) / p.ky * m * math.Pi / 180
	return math.Hypot(dx, dy)
}
