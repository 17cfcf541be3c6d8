package grids

import (
	"fmt"
	"slices"
	"strings"
)

// CheckHierarchy checks the codes and the parent chain of a grid set
// (DB11/T 2157-2023): every level known, every code all digits and as long
// as its level requires (6, 9, 12, 15), no code twice, no parent on a
// district, and for every other grid a parent that is in the set, one level
// up, and whose code prefixes the grid's. Index in each FeatureError is the
// grid's position in gs; nil entries are skipped.
func CheckHierarchy(gs []*Grid) []FeatureError {
	var errs []FeatureError
	fail := func(i int, g *Grid, format string, args ...any) {
		errs = append(errs, FeatureError{Index: i, Code: g.Code, Reason: fmt.Sprintf(format, args...)})
	}

	first := make(map[string]int, len(gs)) // code → first index holding it
	for i, g := range gs {
		if g == nil {
			continue
		}
		if j, dup := first[g.Code]; dup {
			fail(i, g, "duplicate code %s (also feature %d)", g.Code, j)
			continue
		}
		first[g.Code] = i
	}

	for i, g := range gs {
		if g == nil {
			continue
		}
		if g.Level < LevelDistrict || g.Level > LevelGrid {
			fail(i, g, "unknown level")
			continue
		}
		if !allDigits(g.Code) || len(g.Code) != g.Level.CodeLen() {
			fail(i, g, "code %q must be %d digits for a %s", g.Code, g.Level.CodeLen(), g.Level)
		}
		if g.Level == LevelDistrict {
			if g.Parent != "" {
				fail(i, g, "a district has no parent, found %q", g.Parent)
			}
			continue
		}
		if g.Parent == "" {
			fail(i, g, "a %s needs a parent", g.Level)
			continue
		}
		j, ok := first[g.Parent]
		if !ok {
			fail(i, g, "parent %s is not in the set", g.Parent)
			continue
		}
		if p := gs[j]; p.Level != g.Level-1 {
			fail(i, g, "parent %s is a %s, a %s's parent must be a %s", g.Parent, p.Level, g.Level, g.Level-1)
		}
		if !strings.HasPrefix(g.Code, g.Parent) {
			fail(i, g, "code %s does not start with its parent's code %s", g.Code, g.Parent)
		}
	}
	// Duplicates were found in a first pass: put every grid's errors together.
	slices.SortStableFunc(errs, func(a, b FeatureError) int { return a.Index - b.Index })
	return errs
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
