package topo_test

import (
	"fmt"
	"os"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/grids/topo"
	"github.com/paulmach/orb"
)

// box is a lon/lat rectangle, counter-clockwise.
func box(x0, y0, x1, y1 float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
}

// A community of two grids that overlap by 0.0001° of longitude and leave
// the same strip uncovered at the east end.
func ExampleValidate() {
	outline := orb.MultiPolygon{{{{116.300, 39.900}, {116.301, 39.900}, {116.302, 39.900}, {116.302, 39.901}, {116.301, 39.901}, {116.300, 39.901}, {116.300, 39.900}}}}
	set := []*grids.Grid{
		{Code: "110101", Level: grids.LevelDistrict, Geometry: outline},
		{Code: "110101001", Level: grids.LevelStreet, Parent: "110101", Geometry: outline},
		{Code: "110101001001", Level: grids.LevelCommunity, Parent: "110101001", Geometry: outline},
		{Code: "110101001001001", Level: grids.LevelGrid, Parent: "110101001001", Geometry: box(116.300, 39.900, 116.301, 39.901)},
		{Code: "110101001001002", Level: grids.LevelGrid, Parent: "110101001001", Geometry: box(116.3009, 39.900, 116.3019, 39.901)},
	}
	r := topo.Validate(set, topo.Options{})
	for _, p := range r.Problems {
		fmt.Printf("%s %v %.0f m²\n", p.Kind, p.Grids, p.AreaM2)
	}
	fmt.Println("publishable:", r.OK())
	// Output:
	// gap [110101 110101001 110101001001] 950 m²
	// overlap [110101001001001 110101001001002] 950 m²
	// publishable: false
}

func ExampleSplit() {
	outline := box(116.300, 39.900, 116.301, 39.901)
	set := []*grids.Grid{
		{Code: "110101", Level: grids.LevelDistrict, Geometry: outline},
		{Code: "110101001", Level: grids.LevelStreet, Parent: "110101", Geometry: outline},
		{Code: "110101001001", Level: grids.LevelCommunity, Parent: "110101001", Geometry: outline},
		{Code: "110101001001001", Level: grids.LevelGrid, Parent: "110101001001", Geometry: outline},
	}
	// A line running north: the west half, on its left, gets the first
	// code, and the cut points go into the parents' outlines too.
	cut := orb.LineString{{116.3004, 39.9002}, {116.3004, 39.9008}}
	res, err := topo.Split(set, "110101001001001", cut, [2]string{"110101001001002", "110101001001003"}, topo.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("added", res.Added, "removed", res.Removed)
	fmt.Println("clean after:", res.After.Clean())
	// Output:
	// added [110101001001002 110101001001003] removed [110101001001001]
	// clean after: true
}

// A grid attached to a street instead of its community.
func ExampleReport_WriteText() {
	set := []*grids.Grid{
		{Code: "110101", Level: grids.LevelDistrict, Geometry: box(116.300, 39.900, 116.301, 39.901)},
		{Code: "110101001", Level: grids.LevelStreet, Parent: "110101", Geometry: box(116.300, 39.900, 116.301, 39.901)},
		{Code: "110101001001", Level: grids.LevelCommunity, Parent: "110101001", Geometry: box(116.300, 39.900, 116.301, 39.901)},
		{Code: "110101001001001", Level: grids.LevelGrid, Parent: "110101001", Geometry: box(116.300, 39.900, 116.301, 39.901)},
	}
	_ = topo.Validate(set, topo.Options{}).WriteText(os.Stdout)
	// Output:
	// 4 grids, 1 of level grid; jurisdiction 9495 m², grids of level grid 9495 m²
	// 2 errors, 0 warnings
	//   parent_not_covered     1
	//   code_mismatch          1
	// error   parent_not_covered   [110101001001] 9495.26 m² at 116.300500,39.900500: 9495.26 m² of 110101001001 are covered by none of its children but by grids of other parents
	// error   code_mismatch        [110101001001001 110101001] at 116.300500,39.900500: 110101001001001: parent 110101001 is a street, a grid's parent must be a community
}
