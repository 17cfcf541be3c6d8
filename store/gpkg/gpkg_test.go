package gpkg

import (
	"path/filepath"
	"testing"

	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/store/storetest"
)

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
