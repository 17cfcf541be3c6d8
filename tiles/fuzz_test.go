package tiles

import (
	"errors"
	"fmt"
	"testing"
)

// ParseTileID reads URL path segments: any input gives a valid tile or
// ErrInvalidTile, and valid tiles print back to what was parsed.
func FuzzParseTileID(f *testing.F) {
	for _, s := range [][3]string{{"0", "0", "0"}, {"22", "4194303", "1"}, {"3", "-1", "2"}, {"1", "01", "+1"}, {"99999999999", "0", "0"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, z, x, y string) {
		id, err := ParseTileID(z, x, y)
		if err != nil {
			if !errors.Is(err, ErrInvalidTile) {
				t.Fatalf("error %v is not ErrInvalidTile", err)
			}
			return
		}
		if err := id.Validate(); err != nil {
			t.Fatalf("parsed %v does not validate: %v", id, err)
		}
		var gz, gx, gy int
		if _, err := fmt.Sscanf(z+" "+x+" "+y, "%d %d %d", &gz, &gx, &gy); err != nil || uint32(gz) != id.Z || uint32(gx) != id.X || uint32(gy) != id.Y {
			t.Fatalf("%q/%q/%q parsed as %v", z, x, y, id)
		}
	})
}
