package geo_test

import (
	"fmt"

	"github.com/gridd/gridd/geo"
	"github.com/paulmach/orb"
)

// A point reported by an app on Amap (GCJ-02) is stored in WGS84.
func ExampleToWGS84() {
	crs, err := geo.ParseCRS("GCJ02")
	if err != nil {
		panic(err)
	}
	lon, lat := geo.ToWGS84(crs, 116.41024449916938, 39.91640428150164)
	fmt.Printf("%.6f %.6f\n", lon, lat)
	// Points outside China are left alone.
	lon, lat = geo.ToWGS84(crs, 2.3522, 48.8566)
	fmt.Printf("%.4f %.4f\n", lon, lat)
	// Output:
	// 116.404000 39.915000
	// 2.3522 48.8566
}

func ExampleRingSelfIntersects() {
	bowTie := orb.Ring{{0, 0}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}
	hit, where := geo.RingSelfIntersects(bowTie)
	fmt.Println(hit, where)
	// Output: true [1 1]
}

func ExampleNormalizePolygon() {
	// Exterior drawn clockwise, as shapefiles do.
	p := orb.Polygon{{{0, 0}, {0, 1}, {1, 1}, {1, 0}, {0, 0}}}
	n := geo.NormalizePolygon(p)
	fmt.Println(geo.RingArea(p[0]), geo.RingArea(n[0]))
	// Output: -1 1
}

func ExampleGeodesicArea() {
	// A 0.01° cell in central Beijing.
	cell := orb.Polygon{{{116.40, 39.90}, {116.41, 39.90}, {116.41, 39.91}, {116.40, 39.91}, {116.40, 39.90}}}
	fmt.Printf("%.2f km²\n", geo.GeodesicArea(cell)/1e6)
	// Output: 0.95 km²
}
