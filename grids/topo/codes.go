package topo

import (
	"strings"

	"github.com/gridd/gridd/grids"
)

// codeProblem is a hierarchy finding before it gets its place.
type codeProblem struct {
	kind  string
	item  int
	grids []string
	msg   string
}

// checkCodes applies grids.CheckHierarchy, the DB11/T 2157-2023 code rules
// of the grids package (6/9/12/15 digits by level, a parent one level up
// that exists, a code prefixed by the parent's), and sorts its findings
// into problem kinds.
func checkCodes(gs []*grids.Grid) []codeProblem {
	first := make(map[string]int, len(gs))
	for i, g := range gs {
		if _, ok := first[g.Code]; !ok {
			first[g.Code] = i
		}
	}
	var out []codeProblem
	for _, e := range grids.CheckHierarchy(gs) {
		g := gs[e.Index]
		_, parentKnown := first[g.Parent]
		cp := codeProblem{item: e.Index, grids: []string{g.Code}, msg: g.Code + ": " + e.Reason}
		switch {
		case first[g.Code] != e.Index:
			cp.kind = KindDuplicateCode
		case g.Level < grids.LevelDistrict || g.Level > grids.LevelGrid:
			cp.kind = KindCodeMismatch
		case strings.HasPrefix(e.Reason, "code ") && strings.Contains(e.Reason, " digits"):
			// Wrong length or not digits: a code that fits another level
			// disagrees with the level given; any other is malformed.
			cp.kind = KindBadCode
			if allDigits(g.Code) && grids.LevelOfCode(g.Code) != grids.LevelUnknown {
				cp.kind = KindCodeMismatch
			}
		case g.Level != grids.LevelDistrict && !parentKnown:
			cp.kind = KindMissingParent
			if g.Parent != "" {
				cp.grids = append(cp.grids, g.Parent)
			}
		default:
			// A parent of the wrong level, a code without its parent's
			// prefix, a district with a parent.
			cp.kind = KindCodeMismatch
			cp.grids = append(cp.grids, g.Parent)
		}
		out = append(out, cp)
	}
	return out
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
