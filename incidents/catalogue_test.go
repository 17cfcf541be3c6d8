package incidents

import (
	"slices"
	"strings"
	"testing"
)

// The expected codes are the CJ/T 214-2007 class numbers as published in
// city systems' category tables (e.g. Beijing's 200102 暴露垃圾, BJ0101
// 上水井盖), with this catalogue's kind letter in front.
func TestBuiltinLookup(t *testing.T) {
	cat := Builtin()
	tests := []struct {
		name     string
		in       string
		wantCode string
		wantOK   bool
	}{
		{name: "event code", in: "E0102", wantCode: "E0102", wantOK: true},
		{name: "lower-case code", in: "e0102", wantCode: "E0102", wantOK: true},
		{name: "code with spaces", in: "  C0101 ", wantCode: "C0101", wantOK: true},
		{name: "event names", in: "市容环境/暴露垃圾", wantCode: "E0102", wantOK: true},
		{name: "accumulated muck", in: "市容环境/积存垃圾渣土", wantCode: "E0103", wantOK: true},
		{name: "dirty road", in: "市容环境/道路不洁", wantCode: "E0104", wantOK: true},
		{name: "street vendor", in: "街面秩序/无照经营游商", wantCode: "E0501", wantOK: true},
		{name: "trading on the road (this catalogue's own number)", in: "街面秩序/占道经营", wantCode: "E0511", wantOK: true},
		{name: "construction noise", in: "施工管理/施工扰民", wantCode: "E0301", wantOK: true},
		{name: "road collapse", in: "突发事件/路面塌陷", wantCode: "E0401", wantOK: true},
		{name: "water cover", in: "公用设施/上水井盖", wantCode: "C0101", wantOK: true},
		{name: "sewer cover", in: "公用设施/污水井盖", wantCode: "C0102", wantOK: true},
		{name: "component under a shared major name", in: "市容环境/公共厕所", wantCode: "C0301", wantOK: true},
		{name: "full-width slash and spaces", in: " 市容环境 ／ 暴露垃圾 ", wantCode: "E0102", wantOK: true},
		{name: "unknown code", in: "E9999", wantOK: false},
		{name: "major only", in: "市容环境", wantOK: false},
		{name: "minor only", in: "暴露垃圾", wantOK: false},
		{name: "wrong major", in: "街面秩序/暴露垃圾", wantOK: false},
		{name: "three parts", in: "市容环境/暴露垃圾/x", wantOK: false},
		{name: "empty", in: "", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cat.Lookup(tt.in)
			if ok != tt.wantOK {
				t.Fatalf("Lookup(%q) ok = %v, want %v", tt.in, ok, tt.wantOK)
			}
			if ok && got.Code != tt.wantCode {
				t.Errorf("Lookup(%q) = %s (%s), want %s", tt.in, got.Code, got.Name(), tt.wantCode)
			}
		})
	}
}

func TestBuiltinShape(t *testing.T) {
	cat := Builtin()
	all := cat.All()
	if len(all) < 40 {
		t.Fatalf("built-in catalogue has %d categories, want at least 40", len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b Category) int { return strings.Compare(a.Code, b.Code) }) {
		t.Error("All is not in code order")
	}
	wantMajors := []string{
		"C01 公用设施", "C02 道路交通", "C03 市容环境", "C04 园林绿化", "C05 房屋土地", "C06 其他设施",
		"E01 市容环境", "E02 宣传广告", "E03 施工管理", "E04 突发事件", "E05 街面秩序", "E06 其他事件",
	}
	var gotMajors []string
	for _, m := range cat.Majors() {
		gotMajors = append(gotMajors, m.Code+" "+m.Name)
		if m.NameEN == "" {
			t.Errorf("major %s has no English name", m.Code)
		}
	}
	if !slices.Equal(gotMajors, wantMajors) {
		t.Errorf("Majors = %v, want %v", gotMajors, wantMajors)
	}
	for _, c := range all {
		if c.MinorEN == "" || c.DeadlineHours <= 0 {
			t.Errorf("%s %s: incomplete (%+v)", c.Code, c.Name(), c)
		}
		// Every category must be reachable by its code and its names.
		if got, ok := cat.Lookup(c.Code); !ok || got != c {
			t.Errorf("Lookup(%s) = %+v, %v", c.Code, got, ok)
		}
		if got, ok := cat.Lookup(c.Name()); !ok || got != c {
			t.Errorf("Lookup(%s) = %+v, %v", c.Name(), got, ok)
		}
	}
}

func TestBuiltinIsFresh(t *testing.T) {
	a, b := Builtin(), Builtin()
	if err := a.Add(Category{Code: "E0699", Kind: KindEvent, Major: "其他事件", Minor: "其他", DeadlineHours: 24}); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Lookup("E0699"); ok {
		t.Error("adding to one built-in catalogue changed another")
	}
	all := a.All()
	all[0].Minor = "changed"
	if got, _ := a.Lookup(all[0].Code); got.Minor == "changed" {
		t.Error("All returned the catalogue's own slice")
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name       string
		cat        Category
		wantByName string // code the name pair resolves to; default the added code
		wantErr    string
	}{
		{name: "new minor in an existing major",
			cat: Category{Code: "E0512", Kind: KindEvent, Major: "街面秩序", Minor: "沿街晾挂", MajorEN: "Street order", MinorEN: "Laundry hung along the street", DeadlineHours: 4}},
		{name: "new major",
			cat: Category{Code: "E2101", Kind: KindEvent, Major: "扩展事件", Minor: "共享单车堆积", DeadlineHours: 8}},
		{name: "lower-case code is normalised",
			cat: Category{Code: "c0699", Kind: KindComponent, Major: "其他设施", Minor: "其他", DeadlineHours: 72}},
		{name: "same names as an event, other kind",
			cat:        Category{Code: "C0399", Kind: KindComponent, Major: "市容环境", Minor: "暴露垃圾", DeadlineHours: 4},
			wantByName: "E0102"},
		{name: "duplicate code",
			cat:     Category{Code: "E0102", Kind: KindEvent, Major: "市容环境", Minor: "新名字", DeadlineHours: 4},
			wantErr: "code already"},
		{name: "duplicate name pair",
			cat:     Category{Code: "E0198", Kind: KindEvent, Major: "市容环境", Minor: "暴露垃圾", DeadlineHours: 4},
			wantErr: "already in the catalogue as E0102"},
		{name: "major code with another name",
			cat:     Category{Code: "E0120", Kind: KindEvent, Major: "环境卫生", Minor: "新类", DeadlineHours: 4},
			wantErr: "major E01 is 市容环境"},
		{name: "major name under another code",
			cat:     Category{Code: "E2201", Kind: KindEvent, Major: "市容环境", Minor: "新类", DeadlineHours: 4},
			wantErr: "already has code E01"},
		{name: "kind letter mismatch",
			cat:     Category{Code: "C0198", Kind: KindEvent, Major: "市容环境", Minor: "新类", DeadlineHours: 4},
			wantErr: "does not match"},
		{name: "unknown kind",
			cat:     Category{Code: "X0101", Kind: "other", Major: "a", Minor: "b", DeadlineHours: 4},
			wantErr: "does not match"},
		{name: "short code",
			cat:     Category{Code: "E012", Kind: KindEvent, Major: "市容环境", Minor: "新类", DeadlineHours: 4},
			wantErr: "4 digits"},
		{name: "zero minor",
			cat:     Category{Code: "E0100", Kind: KindEvent, Major: "市容环境", Minor: "新类", DeadlineHours: 4},
			wantErr: "start at 01"},
		{name: "slash in a name",
			cat:     Category{Code: "E0198", Kind: KindEvent, Major: "市容环境", Minor: "a/b", DeadlineHours: 4},
			wantErr: "slash"},
		{name: "missing minor",
			cat:     Category{Code: "E0198", Kind: KindEvent, Major: "市容环境", DeadlineHours: 4},
			wantErr: "required"},
		{name: "no deadline",
			cat:     Category{Code: "E0198", Kind: KindEvent, Major: "市容环境", Minor: "新类"},
			wantErr: "deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := Builtin()
			n := cat.Len()
			err := cat.Add(tt.cat)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Add error = %v, want one containing %q", err, tt.wantErr)
				}
				if cat.Len() != n {
					t.Errorf("failed Add changed the catalogue")
				}
				return
			}
			if err != nil {
				t.Fatalf("Add: %v", err)
			}
			code := strings.ToUpper(tt.cat.Code)
			got, ok := cat.Lookup(code)
			if !ok || got.Minor != tt.cat.Minor {
				t.Fatalf("Lookup(%s) after Add = %+v, %v", code, got, ok)
			}
			if !slices.IsSortedFunc(cat.All(), func(a, b Category) int { return strings.Compare(a.Code, b.Code) }) {
				t.Error("All not in code order after Add")
			}
			wantByName := tt.wantByName
			if wantByName == "" {
				wantByName = code
			}
			if byName, ok := cat.Lookup(got.Name()); !ok || byName.Code != wantByName {
				t.Errorf("Lookup(%s) = %s, %v; want %s", got.Name(), byName.Code, ok, wantByName)
			}
		})
	}
}

func TestEventPreferredOnSharedNames(t *testing.T) {
	cat := Builtin()
	if err := cat.Add(Category{Code: "C0399", Kind: KindComponent, Major: "市容环境", Minor: "暴露垃圾", DeadlineHours: 4}); err != nil {
		t.Fatal(err)
	}
	got, ok := cat.Lookup("市容环境/暴露垃圾")
	if !ok || got.Code != "E0102" {
		t.Errorf("Lookup = %s, %v; want the event E0102", got.Code, ok)
	}
	if got, ok := cat.Lookup("C0399"); !ok || got.Kind != KindComponent {
		t.Errorf("component not reachable by code: %+v %v", got, ok)
	}
}
