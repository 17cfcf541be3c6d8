package incidents

import (
	"fmt"
	"slices"
	"strings"
)

// Kinds of catalogue classes: urban management events (事件) and
// components (部件, city furniture whose defects are reported).
const (
	KindEvent     = "event"
	KindComponent = "component"
)

// Category is one minor class of the catalogue.
//
// Codes are a kind letter, the two-digit major class and the two-digit
// minor class: "E0102" is event 01 (市容环境) / 02 (暴露垃圾), "C0101" is
// component 01 (公用设施) / 01 (上水井盖). The digits follow the class
// numbering of CJ/T 214-2007, carried into GB/T 30428.2; the letter stands
// in for the standard's separate event and component tables, whose numbers
// overlap.
type Category struct {
	Code             string
	Kind             string // KindEvent or KindComponent
	Major, Minor     string // Chinese class names, e.g. 市容环境, 暴露垃圾
	MajorEN, MinorEN string
	// DeadlineHours is the default time from report to closing. These are
	// demo defaults: real time limits are set by each city's rules.
	DeadlineHours int
}

// Name is the "大类/小类" form of the category, the other way (besides the
// code) incidents may name it.
func (c Category) Name() string { return c.Major + "/" + c.Minor }

// MajorCode is the code prefix of the category's major class, e.g. "E01".
func (c Category) MajorCode() string {
	if len(c.Code) < 3 {
		return ""
	}
	return c.Code[:3]
}

// Major is a major class (大类) of the catalogue.
type Major struct {
	Code   string // kind letter + 2 digits, e.g. "E01"
	Kind   string
	Name   string
	NameEN string
}

// Catalogue is a set of categories indexed by code and by name. Lookups
// may run concurrently once it is built; Add may not run alongside them.
type Catalogue struct {
	cats   []Category // kept in code order
	byCode map[string]int
	// byName maps kind → "大类/小类" → index. Names are unique within a
	// kind; the same pair may exist once per kind.
	byName map[string]map[string]int
}

// NewCatalogue returns an empty catalogue, for callers who want none of
// the built-in classes.
func NewCatalogue() *Catalogue {
	return &Catalogue{
		byCode: map[string]int{},
		byName: map[string]map[string]int{KindEvent: {}, KindComponent: {}},
	}
}

// Builtin returns a fresh catalogue holding the built-in classes, so callers
// may extend it without affecting each other.
func Builtin() *Catalogue {
	c := NewCatalogue()
	for _, cat := range builtinCategories() {
		if err := c.Add(cat); err != nil {
			// The built-in table is fixed; a clash is a programming error.
			panic(fmt.Sprintf("built-in catalogue: %v", err))
		}
	}
	return c
}

// Lookup finds a category by code ("E0102", case-insensitive) or by
// "大类/小类" names ("市容环境/暴露垃圾"; a full-width slash and spaces
// around the parts are accepted). Some major names exist as both an event
// and a component class (市容环境); when a name pair matches in both kinds
// the event wins, because reports name events far more often than
// components. Use the code to reach the component.
func (c *Catalogue) Lookup(s string) (Category, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Category{}, false
	}
	if i, ok := c.byCode[strings.ToUpper(s)]; ok {
		return c.cats[i], true
	}
	key, ok := nameKey(s)
	if !ok {
		return Category{}, false
	}
	for _, kind := range []string{KindEvent, KindComponent} {
		if i, ok := c.byName[kind][key]; ok {
			return c.cats[i], true
		}
	}
	return Category{}, false
}

// Add extends the catalogue. The code must follow the kind letter + 4
// digits scheme and agree with Kind; a code already present, or a
// "大类/小类" pair already present in the same kind, is an error. A major
// code already in use must keep its major names.
func (c *Catalogue) Add(cat Category) error {
	cat.Code = strings.ToUpper(strings.TrimSpace(cat.Code))
	cat.Major = strings.TrimSpace(cat.Major)
	cat.Minor = strings.TrimSpace(cat.Minor)
	if err := checkCategory(cat); err != nil {
		return fmt.Errorf("add category %q: %w", cat.Code, err)
	}
	if _, dup := c.byCode[cat.Code]; dup {
		return fmt.Errorf("add category %q: code already in the catalogue", cat.Code)
	}
	key := cat.Major + "/" + cat.Minor
	if i, dup := c.byName[cat.Kind][key]; dup {
		return fmt.Errorf("add category %q: %s %s already in the catalogue as %s", cat.Code, cat.Kind, key, c.cats[i].Code)
	}
	for _, o := range c.cats {
		if o.MajorCode() == cat.MajorCode() && o.Major != cat.Major {
			return fmt.Errorf("add category %q: major %s is %s, not %s", cat.Code, o.MajorCode(), o.Major, cat.Major)
		}
		if o.Kind == cat.Kind && o.Major == cat.Major && o.MajorCode() != cat.MajorCode() {
			return fmt.Errorf("add category %q: major %s already has code %s", cat.Code, cat.Major, o.MajorCode())
		}
	}
	at, _ := slices.BinarySearchFunc(c.cats, cat.Code, func(e Category, code string) int {
		return strings.Compare(e.Code, code)
	})
	c.cats = slices.Insert(c.cats, at, cat)
	c.reindex()
	return nil
}

// All returns the categories in code order (components "C…" before events
// "E…"). The slice is a copy.
func (c *Catalogue) All() []Category { return slices.Clone(c.cats) }

// Len is the number of categories.
func (c *Catalogue) Len() int { return len(c.cats) }

// Majors returns the major classes in code order.
func (c *Catalogue) Majors() []Major {
	var out []Major
	for _, cat := range c.cats {
		code := cat.MajorCode()
		if n := len(out); n > 0 && out[n-1].Code == code {
			continue
		}
		out = append(out, Major{Code: code, Kind: cat.Kind, Name: cat.Major, NameEN: cat.MajorEN})
	}
	return out
}

func (c *Catalogue) reindex() {
	clear(c.byCode)
	for _, m := range c.byName {
		clear(m)
	}
	for i, cat := range c.cats {
		c.byCode[cat.Code] = i
		c.byName[cat.Kind][cat.Major+"/"+cat.Minor] = i
	}
}

func checkCategory(cat Category) error {
	if len(cat.Code) != 5 {
		return fmt.Errorf("code must be a kind letter and 4 digits, like E0102")
	}
	for _, r := range cat.Code[1:] {
		if r < '0' || r > '9' {
			return fmt.Errorf("code must be a kind letter and 4 digits, like E0102")
		}
	}
	switch {
	case cat.Kind == KindEvent && cat.Code[0] == 'E':
	case cat.Kind == KindComponent && cat.Code[0] == 'C':
	default:
		return fmt.Errorf("kind %q does not match code letter %q (E for event, C for component)", cat.Kind, cat.Code[0])
	}
	if cat.Code[1:3] == "00" || cat.Code[3:5] == "00" {
		return fmt.Errorf("major and minor numbers start at 01")
	}
	if cat.Major == "" || cat.Minor == "" {
		return fmt.Errorf("major and minor names are required")
	}
	if strings.ContainsAny(cat.Major+cat.Minor, "/／") {
		return fmt.Errorf("names may not contain a slash")
	}
	if cat.DeadlineHours <= 0 {
		return fmt.Errorf("deadline hours must be positive")
	}
	return nil
}

// nameKey normalises "大类 / 小类" or "大类／小类" to "大类/小类".
func nameKey(s string) (string, bool) {
	s = strings.ReplaceAll(s, "／", "/")
	major, minor, ok := strings.Cut(s, "/")
	if !ok {
		return "", false
	}
	major, minor = strings.TrimSpace(major), strings.TrimSpace(minor)
	if major == "" || minor == "" || strings.Contains(minor, "/") {
		return "", false
	}
	return major + "/" + minor, true
}

// builtinCategories is the built-in table. Major and minor numbers follow
// CJ/T 214-2007 as implemented by city systems (e.g. Beijing's); where the
// standard leaves a class to local rules (其他设施, 其他事件, and 占道经营
// beside the standard's 店外经营) the numbers are this catalogue's own.
func builtinCategories() []Category {
	type row struct {
		minor, name, en string
		hours           int
	}
	type major struct {
		code, kind, name, en string
		rows                 []row
	}
	majors := []major{
		{"C01", KindComponent, "公用设施", "Public utilities", []row{
			{"01", "上水井盖", "Water supply manhole cover", 24},
			{"02", "污水井盖", "Sewer manhole cover", 24},
			{"03", "雨水井盖", "Storm drain manhole cover", 24},
			{"04", "雨水箅子", "Storm drain grate", 24},
			{"05", "电力井盖", "Power manhole cover", 24},
			{"06", "路灯井盖", "Street light manhole cover", 24},
			{"07", "通讯井盖", "Telecom manhole cover", 24},
			{"11", "燃气井盖", "Gas manhole cover", 12},
			{"13", "消防设施", "Fire hydrant and fire equipment", 24},
			{"18", "路灯", "Street light", 48},
		}},
		{"C02", KindComponent, "道路交通", "Roads and traffic", []row{
			{"03", "公交站亭", "Bus shelter", 72},
			{"09", "交通标志牌", "Traffic sign", 48},
			{"11", "交通护栏", "Traffic guardrail", 48},
			{"13", "路名牌", "Street name sign", 72},
		}},
		{"C03", KindComponent, "市容环境", "City appearance", []row{
			{"01", "公共厕所", "Public toilet", 24},
			{"04", "垃圾间(楼)", "Refuse room", 24},
			{"05", "垃圾箱", "Litter bin", 24},
			{"07", "广告牌匾", "Billboard and shop sign", 72},
		}},
		{"C04", KindComponent, "园林绿化", "Landscaping", []row{
			{"01", "古树名木", "Heritage tree", 48},
			{"02", "行道树", "Street tree", 48},
			{"05", "绿地", "Green space", 72},
		}},
		{"C05", KindComponent, "房屋土地", "Buildings and land", []row{
			{"01", "宣传栏", "Notice board", 72},
			{"02", "人防工事", "Civil air defence works", 72},
		}},
		{"C06", KindComponent, "其他设施", "Other facilities", []row{
			{"02", "工地", "Construction site", 72},
			{"03", "水域附属设施", "Waterside facility", 72},
			{"04", "水域护栏", "Waterside railing", 48},
		}},
		{"E01", KindEvent, "市容环境", "City appearance", []row{
			{"01", "私搭乱建", "Illegal structure", 168},
			{"02", "暴露垃圾", "Exposed rubbish", 4},
			{"03", "积存垃圾渣土", "Accumulated rubbish and muck", 24},
			{"04", "道路不洁", "Dirty road", 8},
			{"05", "水域不洁", "Dirty water surface", 24},
			{"06", "绿地脏乱", "Littered green space", 24},
			{"07", "废弃车辆", "Abandoned vehicle", 72},
			{"08", "废弃家具设备", "Discarded furniture and appliances", 24},
			{"09", "非装饰性树挂", "Non-decorative things hung on trees", 24},
		}},
		{"E02", KindEvent, "宣传广告", "Advertising", []row{
			{"01", "非法小广告", "Illegal flyer or sticker ads", 24},
			{"02", "违章张贴悬挂广告牌匾", "Unauthorised posted or hung signs", 72},
			{"03", "占道广告牌", "Sign board blocking the road", 24},
			{"04", "街头散发广告", "Handing out ads in the street", 4},
		}},
		{"E03", KindEvent, "施工管理", "Construction", []row{
			{"01", "施工扰民", "Construction noise nuisance", 8},
			{"02", "工地扬尘", "Construction site dust", 8},
			{"03", "无证消纳渣土", "Unlicensed muck dumping", 24},
			{"04", "道路遗撒", "Spillage on the road", 4},
			{"05", "施工废弃料", "Construction waste", 24},
		}},
		{"E04", KindEvent, "突发事件", "Emergencies", []row{
			{"01", "路面塌陷", "Road collapse", 2},
			{"02", "自来水管破裂", "Burst water main", 2},
			{"03", "燃气管道破裂", "Gas pipe rupture", 1},
			{"04", "下水道堵塞或破损", "Blocked or broken sewer", 8},
			{"05", "热力管道破裂", "Burst heating pipe", 2},
			{"06", "道路积水", "Flooded road", 4},
			{"07", "道路积雪结冰", "Snow or ice on the road", 8},
		}},
		{"E05", KindEvent, "街面秩序", "Street order", []row{
			{"01", "无照经营游商", "Unlicensed street vendor", 2},
			{"02", "流浪乞讨", "Vagrancy and begging", 8},
			{"03", "占道废品收购", "Scrap buying on the road", 8},
			{"04", "店外经营", "Trading outside the shop", 4},
			{"05", "机动车乱停放", "Illegally parked motor vehicle", 4},
			{"06", "非机动车乱停放", "Illegally parked bicycle", 4},
			{"07", "乱堆物堆料", "Goods piled in public space", 8},
			{"09", "黑车拉客", "Unlicensed taxi touting", 4},
			{"10", "露天烧烤", "Open-air barbecue", 2},
			{"11", "占道经营", "Trading on the road", 2},
		}},
		{"E06", KindEvent, "其他事件", "Other events", []row{
			{"01", "油烟污染", "Cooking fume pollution", 48},
			{"02", "噪声扰民", "Noise nuisance", 24},
		}},
	}
	var out []Category
	for _, m := range majors {
		for _, r := range m.rows {
			out = append(out, Category{
				Code: m.code + r.minor, Kind: m.kind,
				Major: m.name, Minor: r.name, MajorEN: m.en, MinorEN: r.en,
				DeadlineHours: r.hours,
			})
		}
	}
	return out
}
