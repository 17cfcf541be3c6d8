package gpkg

import (
	"path/filepath"
	"testing"

	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/store/storetest"
)

// openFile opens a new GeoPackage of that name in a temporary directory,
// closed when the test ends.
func openFile(t *testing.T, name string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openTemp(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.gpkg")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, func(t *testing.T) store.Store {
		t.Helper()
		s2, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return s2
	}
}

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Harness{Open: openTemp})
}
