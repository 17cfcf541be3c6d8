package topo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// The surface of the WGS84 ellipsoid is 510 065 621 724 088.5 m²
// (GeographicLib, Geodesic::WGS84().EllipsoidArea()). A lon/lat rectangle
// [0°,90°]×[0°,90°] is an eighth of it, whatever its edges' definition:
// its sides are meridians and parallels.
const wgs84SurfaceM2 = 510065621724088.5

func TestRingAreaM2(t *testing.T) {
	tests := []struct {
		name string
		poly orb.Polygon
		want float64
		tol  float64 // relative
	}{
		{
			name: "octant of the ellipsoid",
			poly: orb.Polygon{{{0, 0}, {90, 0}, {90, 90}, {0, 90}, {0, 0}}},
			want: wgs84SurfaceM2 / 8,
			tol:  1e-12,
		},
		{
			name: "southern octant, clockwise input",
			poly: orb.Polygon{{{10, -90}, {10, 0}, {100, 0}, {100, -90}, {10, -90}}},
			want: wgs84SurfaceM2 / 8,
			tol:  1e-12,
		},
		{
			name: "100 m square on the equator",
			poly: rectM(0, 0, 100, 100),
			want: 10000,
			tol:  1e-8,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProjection(tt.poly.Bound())
			s, err := newShape(orb.MultiPolygon{tt.poly}, func(q orb.Point) xy { return p.fwd(q[0], q[1]) })
			if err != nil {
				t.Fatal(err)
			}
			got := s.areaM2(p)
			if math.Abs(got-tt.want) > tt.tol*tt.want {
				t.Errorf("area %.6f m², want %.6f (relative error %.2e)", got, tt.want, (got-tt.want)/tt.want)
			}
		})
	}
}

// A triangle's ellipsoidal area must not depend on how its edges are cut:
// inserting vertices along the edges (straight in lon/lat) leaves it.
func TestRingAreaM2Subdivision(t *testing.T) {
	tri := orb.Ring{{116.1, 39.7}, {116.6, 39.75}, {116.3, 40.2}, {116.1, 39.7}}
	var fine orb.Ring
	for i := 0; i+1 < len(tri); i++ {
		a, b := tri[i], tri[i+1]
		for k := 0; k < 50; k++ {
			f := float64(k) / 50
			fine = append(fine, orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])})
		}
	}
	fine = append(fine, fine[0])
	p := newProjection(tri.Bound())
	fwd := func(q orb.Point) xy { return p.fwd(q[0], q[1]) }
	s1, _ := newShape(orb.MultiPolygon{{tri}}, fwd)
	s2, _ := newShape(orb.MultiPolygon{{fine}}, fwd)
	a1, a2 := s1.areaM2(p), s2.areaM2(p)
	if math.Abs(a1-a2) > 1e-9*a1 {
		t.Errorf("coarse %.6f m², fine %.6f m²", a1, a2)
	}
}
