// Package grids holds the grid model (codes, levels, hierarchy), grid sets
// and their versions, the GeoJSON importer and the spatial index that
// geocodes points to grids.
package grids

import (
	"fmt"
	"time"

	"github.com/paulmach/orb"
)

// Level is a rung of the hierarchy district → street → community → grid.
type Level int8

const (
	LevelUnknown Level = iota
	LevelDistrict
	LevelStreet
	LevelCommunity
	LevelGrid
)

var levelNames = [...]string{"", "district", "street", "community", "grid"}

// codeLen is the length of a code at each level (DB11/T 2157-2023).
var codeLen = [...]int{0, 6, 9, 12, 15}

func (l Level) String() string {
	if l < LevelDistrict || l > LevelGrid {
		return "unknown"
	}
	return levelNames[l]
}

// CodeLen is the number of digits of a code at this level.
func (l Level) CodeLen() int {
	if l < LevelDistrict || l > LevelGrid {
		return 0
	}
	return codeLen[l]
}

// ParseLevel reads a level name as written in GeoJSON properties.
func ParseLevel(s string) (Level, error) {
	for l := LevelDistrict; l <= LevelGrid; l++ {
		if levelNames[l] == s {
			return l, nil
		}
	}
	return LevelUnknown, fmt.Errorf("unknown level %q (want district, street, community or grid)", s)
}

// LevelOfCode infers the level from a code's length.
func LevelOfCode(code string) Level {
	for l := LevelDistrict; l <= LevelGrid; l++ {
		if len(code) == codeLen[l] {
			return l
		}
	}
	return LevelUnknown
}

// Grid is one unit of any level. Geometry is in WGS84 lon/lat, rings
// normalised to RFC 7946 winding (exterior counter-clockwise, holes
// clockwise), each ring closed.
type Grid struct {
	Code       string
	Name       string
	Level      Level
	Parent     string // empty for a district
	Department string
	// Attrs are the other GeoJSON properties, kept as given.
	Attrs    map[string]any
	Geometry orb.MultiPolygon
}

// Bound is the geometry's bounding box.
func (g *Grid) Bound() orb.Bound { return g.Geometry.Bound() }

// Status of a grid set.
type Status string

const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
)

// Set is a versioned grid set: the whole hierarchy as drawn at one time.
// A published set is in force from EffectiveFrom until EffectiveTo (nil:
// still in force).
type Set struct {
	ID            int64
	Name          string
	Status        Status
	CreatedAt     time.Time
	EffectiveFrom *time.Time
	EffectiveTo   *time.Time
	Grids         []*Grid
}

// InForce tells whether the set is the published one at time t.
func (s *Set) InForce(t time.Time) bool {
	if s.Status != StatusPublished || s.EffectiveFrom == nil {
		return false
	}
	if t.Before(*s.EffectiveFrom) {
		return false
	}
	return s.EffectiveTo == nil || t.Before(*s.EffectiveTo)
}

// ByCode indexes the set's grids by code.
func (s *Set) ByCode() map[string]*Grid {
	m := make(map[string]*Grid, len(s.Grids))
	for _, g := range s.Grids {
		m[g.Code] = g
	}
	return m
}

// Leaves are the grids of level grid, the ones incidents are geocoded to.
func (s *Set) Leaves() []*Grid {
	var out []*Grid
	for _, g := range s.Grids {
		if g.Level == LevelGrid {
			out = append(out, g)
		}
	}
	return out
}
