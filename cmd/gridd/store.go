package main

import (
	"context"
	"errors"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/store/gpkg"
	"github.com/gridd/gridd/store/postgis"
)

// defaultDataFile is the embedded store used when neither --data nor --db
// is given.
const defaultDataFile = "gridd.gpkg"

// openStore opens the PostGIS store when db is set, else the GeoPackage.
func openStore(ctx context.Context, data, db string) (store.Store, error) {
	if data != "" && db != "" {
		return nil, errors.New("give --data or --db, not both")
	}
	if db != "" {
		return postgis.Open(ctx, db)
	}
	if data == "" {
		data = defaultDataFile
	}
	return gpkg.Open(data)
}

func openRegistry(ctx context.Context, data, db string) (*grids.Registry, func(), error) {
	st, err := openStore(ctx, data, db)
	if err != nil {
		return nil, nil, err
	}
	reg, err := loadRegistry(ctx, st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return reg, func() { st.Close() }, nil
}

// loadRegistry indexes the store's published grid sets, and nothing else:
// the commands that only geocode do not load the incidents as the server
// does.
func loadRegistry(ctx context.Context, st store.Store) (*grids.Registry, error) {
	sets, err := store.PublishedSets(ctx, st)
	if err != nil {
		return nil, err
	}
	reg := grids.NewRegistry(grids.IndexOptions{})
	if err := reg.Replace(sets); err != nil {
		return nil, err
	}
	return reg, nil
}
