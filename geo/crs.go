// Package geo holds pure geometry on orb types: coordinate system
// transforms between WGS84 and the Chinese GCJ-02 and BD-09 systems, and the
// ring and polygon helpers that validation and import rely on.
package geo

import (
	"fmt"
	"math"
	"strings"
)

// CRS names a geographic coordinate system an input may be given in.
type CRS string

const (
	// WGS84 is the GPS datum; gridd stores and serves everything in it
	// (CGCS2000 is treated as equal).
	WGS84 CRS = "wgs84"
	// GCJ02 is the obfuscated datum of Amap, Tencent and other Chinese maps.
	GCJ02 CRS = "gcj02"
	// BD09 is Baidu's datum, a further offset of GCJ02.
	BD09 CRS = "bd09"
)

// ParseCRS reads a CRS name, case-insensitively; the empty string means
// WGS84, the default of every input.
func ParseCRS(s string) (CRS, error) {
	switch c := CRS(strings.ToLower(strings.TrimSpace(s))); c {
	case "":
		return WGS84, nil
	case WGS84, GCJ02, BD09:
		return c, nil
	}
	return "", fmt.Errorf("unknown crs %q (want wgs84, gcj02 or bd09)", s)
}

// The China box of the published GCJ-02 implementations (eviltransform).
// Outside it the datum is plain WGS84, so every transform is the identity.
const (
	chinaMinLon = 72.004
	chinaMaxLon = 137.8347
	chinaMinLat = 0.8293
	chinaMaxLat = 55.8271
)

// InChinaBox tells whether a point lies in the box where GCJ-02 and BD-09
// differ from WGS84. Each transform tests the point it is given, in the CRS
// it is given in. NaN is never inside.
func InChinaBox(lon, lat float64) bool {
	return lon >= chinaMinLon && lon <= chinaMaxLon && lat >= chinaMinLat && lat <= chinaMaxLat
}

// ToWGS84 converts a point given in c to WGS84. An unknown c, like a point
// outside the China box, is returned as given.
func ToWGS84(c CRS, lon, lat float64) (float64, float64) {
	switch c {
	case GCJ02:
		return GCJ02ToWGS84(lon, lat)
	case BD09:
		return BD09ToWGS84(lon, lat)
	}
	return lon, lat
}

// FromWGS84 converts a WGS84 point to c. An unknown c, like a point outside
// the China box, is returned as given.
func FromWGS84(c CRS, lon, lat float64) (float64, float64) {
	switch c {
	case GCJ02:
		return WGS84ToGCJ02(lon, lat)
	case BD09:
		return WGS84ToBD09(lon, lat)
	}
	return lon, lat
}

// Krasovsky 1940 ellipsoid, the one the GCJ-02 offset is defined on.
const (
	krasovskyA  = 6378245.0
	krasovskyEE = 0.00669342162296594323
	// bdXPi is the constant of Baidu's BD-09 rotation.
	bdXPi = math.Pi * 3000.0 / 180.0
)

// Inverse transforms iterate the forward one until the step falls under
// inverseTol degrees (about 0.1 µm), or give up after inverseMaxIter steps;
// the forward maps are contractions close to the identity, so a handful of
// steps suffice.
const (
	inverseTol     = 1e-12
	inverseMaxIter = 40
)

// WGS84ToGCJ02 applies the GCJ-02 offset.
func WGS84ToGCJ02(lon, lat float64) (float64, float64) {
	if !InChinaBox(lon, lat) {
		return lon, lat
	}
	return wgsToGCJ(lon, lat)
}

// GCJ02ToWGS84 inverts the GCJ-02 offset by fixed-point iteration on the
// forward formula, accurate to far better than 0.01 m.
func GCJ02ToWGS84(lon, lat float64) (float64, float64) {
	if !InChinaBox(lon, lat) {
		return lon, lat
	}
	return invert(wgsToGCJ, lon, lat)
}

// GCJ02ToBD09 applies Baidu's BD-09 offset to a GCJ-02 point.
func GCJ02ToBD09(lon, lat float64) (float64, float64) {
	if !InChinaBox(lon, lat) {
		return lon, lat
	}
	return gcjToBD(lon, lat)
}

// BD09ToGCJ02 inverts the BD-09 offset by iteration; the closed form the
// published libraries use is off by a few centimetres, more than the 0.01 m
// round trip allows.
func BD09ToGCJ02(lon, lat float64) (float64, float64) {
	if !InChinaBox(lon, lat) {
		return lon, lat
	}
	return invert(gcjToBD, lon, lat)
}

// WGS84ToBD09 chains WGS84 → GCJ-02 → BD-09.
func WGS84ToBD09(lon, lat float64) (float64, float64) {
	if !InChinaBox(lon, lat) {
		return lon, lat
	}
	return gcjToBD(wgsToGCJ(lon, lat))
}

// BD09ToWGS84 chains BD-09 → GCJ-02 → WGS84.
func BD09ToWGS84(lon, lat float64) (float64, float64) {
	if !InChinaBox(lon, lat) {
		return lon, lat
	}
	gl, ga := invert(gcjToBD, lon, lat)
	return invert(wgsToGCJ, gl, ga)
}

// wgsToGCJ is the GCJ-02 forward formula without the box test, so that the
// inverse iteration sees one smooth function even near the box edge.
func wgsToGCJ(lon, lat float64) (float64, float64) {
	x, y := lon-105.0, lat-35.0
	dLat := gcjShiftLat(x, y)
	dLon := gcjShiftLon(x, y)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - krasovskyEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((krasovskyA * (1 - krasovskyEE)) / (magic * sqrtMagic) * math.Pi)
	dLon = (dLon * 180.0) / (krasovskyA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return lon + dLon, lat + dLat
}

func gcjShiftLat(x, y float64) float64 {
	ret := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	ret += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return ret
}

func gcjShiftLon(x, y float64) float64 {
	ret := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	ret += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return ret
}

// gcjToBD is Baidu's forward formula, also without the box test.
func gcjToBD(lon, lat float64) (float64, float64) {
	z := math.Sqrt(lon*lon+lat*lat) + 0.00002*math.Sin(lat*bdXPi)
	theta := math.Atan2(lat, lon) + 0.000003*math.Cos(lon*bdXPi)
	return z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006
}

// invert solves forward(w) = (lon, lat) by fixed-point iteration
// w ← w − (forward(w) − target). Both offsets change by well under 1% per
// degree, so each step gains two to three digits.
func invert(forward func(lon, lat float64) (float64, float64), lon, lat float64) (float64, float64) {
	wl, wa := lon, lat
	for range inverseMaxIter {
		fl, fa := forward(wl, wa)
		dl, da := fl-lon, fa-lat
		wl, wa = wl-dl, wa-da
		if math.Abs(dl) < inverseTol && math.Abs(da) < inverseTol {
			break
		}
	}
	return wl, wa
}
