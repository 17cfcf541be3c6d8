package gpkg

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
)

// Start-up's share of the grids: read a 50,000-grid set back from the
// GeoPackage and build its geocoding index.
func BenchmarkLoadGridSetAndIndex50k(b *testing.B) {
	ctx := context.Background()
	gs, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: 50000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(filepath.Join(b.TempDir(), "grids.gpkg"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	id, err := s.CreateGridSet(ctx, &grids.Set{Name: "bench", Grids: gs})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		set, err := s.GetGridSet(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := grids.NewIndex(set, grids.IndexOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
