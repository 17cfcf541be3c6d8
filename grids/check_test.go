package grids

import (
	"fmt"
	"reflect"
	"testing"
)

func TestCheckHierarchy(t *testing.T) {
	district := &Grid{Code: "110101", Name: "d", Level: LevelDistrict}
	street := &Grid{Code: "110101001", Name: "s", Level: LevelStreet, Parent: "110101"}
	community := &Grid{Code: "110101001001", Name: "c", Level: LevelCommunity, Parent: "110101001"}
	grid := func(code, parent string) *Grid {
		return &Grid{Code: code, Name: "g", Level: LevelGrid, Parent: parent}
	}
	valid := []*Grid{district, street, community, grid("110101001001001", "110101001001")}
	tests := []struct {
		name string
		gs   []*Grid
		want []string // "index: reason"
	}{
		{name: "valid chain", gs: valid},
		{name: "children before parents", gs: []*Grid{valid[3], valid[2], valid[1], valid[0]}},
		{name: "empty set", gs: nil},
		{name: "nil entries are skipped", gs: []*Grid{nil, district, nil}},
		{name: "unknown level", gs: []*Grid{{Code: "110101", Level: LevelUnknown}},
			want: []string{"0: unknown level"}},
		{name: "out of range level", gs: []*Grid{{Code: "110101", Level: Level(9)}},
			want: []string{"0: unknown level"}},
		{name: "code too short for its level", gs: []*Grid{district, street, community, grid("11010100100101", "110101001001")},
			want: []string{`3: code "11010100100101" must be 15 digits for a grid`}},
		{name: "code with letters", gs: []*Grid{{Code: "11010A", Level: LevelDistrict}},
			want: []string{`0: code "11010A" must be 6 digits for a district`}},
		{name: "empty code", gs: []*Grid{{Code: "", Level: LevelDistrict}},
			want: []string{`0: code "" must be 6 digits for a district`}},
		{name: "district with a parent", gs: []*Grid{{Code: "110101", Level: LevelDistrict, Parent: "110000"}},
			want: []string{`0: a district has no parent, found "110000"`}},
		{name: "missing parent", gs: []*Grid{district, {Code: "110101001", Level: LevelStreet}},
			want: []string{"1: a street needs a parent"}},
		{name: "parent not in set", gs: []*Grid{district, street, grid("110101001002001", "110101001002")},
			want: []string{"2: parent 110101001002 is not in the set"}},
		{name: "parent two levels up", gs: []*Grid{district, street, grid("110101001001001", "110101001")},
			want: []string{"2: parent 110101001 is a street, a grid's parent must be a community"}},
		{name: "parent at the same level", gs: []*Grid{district, street, {Code: "110101002", Level: LevelStreet, Parent: "110101001"}},
			want: []string{
				"2: parent 110101001 is a street, a street's parent must be a district",
				"2: code 110101002 does not start with its parent's code 110101001",
			}},
		{name: "code not under parent's", gs: []*Grid{district, street, community, grid("110101001002001", "110101001001")},
			want: []string{"3: code 110101001002001 does not start with its parent's code 110101001001"}},
		{name: "duplicate code", gs: []*Grid{district, street, community, grid("110101001001001", "110101001001"), grid("110101001001001", "110101001001")},
			want: []string{"4: duplicate code 110101001001001 (also feature 3)"}},
		{name: "duplicate parent resolves to the first", gs: []*Grid{district, street, {Code: "110101001", Level: LevelCommunity, Parent: "110101"}, community},
			want: []string{
				"2: duplicate code 110101001 (also feature 1)",
				`2: code "110101001" must be 12 digits for a community`,
				"2: parent 110101 is a district, a community's parent must be a street",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, fe := range CheckHierarchy(tt.gs) {
				if tt.gs[fe.Index] == nil || fe.Code != tt.gs[fe.Index].Code {
					t.Errorf("error %+v does not name its grid", fe)
				}
				got = append(got, fmt.Sprintf("%d: %s", fe.Index, fe.Reason))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CheckHierarchy:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
