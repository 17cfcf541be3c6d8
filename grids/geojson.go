package grids

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gridd/gridd/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// ImportOptions control ReadGeoJSON.
type ImportOptions struct {
	// CRS the file's coordinates are in; empty means WGS84. Every vertex is
	// converted to WGS84 on import.
	CRS geo.CRS
}

// FeatureError is one problem with one feature of an import.
type FeatureError struct {
	Index  int    // position of the feature in the file (or of the grid in a slice), from 0
	Code   string // the feature's code, when it has one
	Reason string
}

func (e FeatureError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("feature %d: %s", e.Index, e.Reason)
	}
	return fmt.Sprintf("feature %d (code %s): %s", e.Index, e.Code, e.Reason)
}

// ImportError lists every problem found in an import; nothing is imported
// when there is one.
type ImportError struct {
	Errors []FeatureError
}

// importErrorsShown is how many problems Error spells out.
const importErrorsShown = 20

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d invalid feature", len(e.Errors))
	if len(e.Errors) != 1 {
		b.WriteString("s")
	}
	for i, fe := range e.Errors {
		if i == importErrorsShown {
			fmt.Fprintf(&b, "\n  and %d more", len(e.Errors)-i)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Reserved property names; every other property goes to Grid.Attrs.
const (
	propCode       = "code"
	propName       = "name"
	propLevel      = "level"
	propParent     = "parent"
	propDepartment = "department"
)

func reservedProp(k string) bool {
	switch k {
	case propCode, propName, propLevel, propParent, propDepartment:
		return true
	}
	return false
}

// ReadGeoJSON reads a grids file: a FeatureCollection of Polygon or
// MultiPolygon features with properties code, name, level, parent (absent
// for districts), optional department and any others, kept in Attrs.
// Coordinates in opt.CRS are converted to WGS84 and rings are normalised to
// RFC 7946 winding. Every feature is checked (geometry, properties, and the
// hierarchy with CheckHierarchy); if any is invalid the result is nil and
// the error an *ImportError listing them all in file order. A file that is
// not JSON or not a FeatureCollection gives a plain error.
//
// The file is read into memory and its features are decoded and checked on
// every CPU (see readFeatureCollectionFast). A file that reader does not
// take as it is, such as one that is not valid JSON, is read again with
// encoding/json (see scanFeatureCollection), which words the errors. Numbers
// in Attrs are float64. Positions with more than two numbers keep the first
// two.
func ReadGeoJSON(r io.Reader, opt ImportOptions) ([]*Grid, error) {
	return readGeoJSON(r, opt, true)
}

// readGeoJSON is ReadGeoJSON; with fast false it reads with encoding/json
// alone, the reference the fast reader is tested against.
func readGeoJSON(r io.Reader, opt ImportOptions, fast bool) ([]*Grid, error) {
	crs, err := geo.ParseCRS(string(opt.CRS))
	if err != nil {
		return nil, fmt.Errorf("read grids: %w", err)
	}
	var gs []*Grid
	var errs [][]FeatureError
	done := false
	if fast {
		data, rerr := readAllHinted(r)
		if rerr == nil {
			gs, errs, _, done = readFeatureCollectionFast(data, crs, fastChunkSize(len(data)))
		}
		// What was read is read again, then the reader's error if it had one.
		r = bytes.NewReader(data)
		if rerr != nil {
			r = io.MultiReader(r, errorReader{rerr})
		}
	}
	if !done {
		gs, errs, err = readFeatureCollection(r, crs)
		if err != nil {
			return nil, fmt.Errorf("read grids: %w", err)
		}
	}
	return finishImport(gs, errs)
}

// readFeatureCollection streams the file through encoding/json: features
// are split off as they are read, then decoded into orb geometry (see
// decodeGeometry) and checked by one worker per CPU. It returns every
// feature's grid and problems in file order.
func readFeatureCollection(r io.Reader, crs geo.CRS) ([]*Grid, [][]FeatureError, error) {
	p := startFeaturePipeline(crs)
	err := scanFeatureCollection(json.NewDecoder(r), p.add)
	gs, errs := p.wait()
	if err != nil {
		return nil, nil, err
	}
	return gs, errs, nil
}

// finishImport checks the hierarchy of the features read and gives the
// grids, or an *ImportError listing every problem in file order.
func finishImport(gs []*Grid, errs [][]FeatureError) ([]*Grid, error) {
	// The hierarchy is checked over every feature whose code and level could
	// be read, so a bad geometry does not hide a bad parent.
	var ranked []*Grid
	var at []int
	for i, g := range gs {
		if g != nil && g.Code != "" && g.Level != LevelUnknown {
			ranked = append(ranked, g)
			at = append(at, i)
		}
	}
	for _, fe := range CheckHierarchy(ranked) {
		fe.Index = at[fe.Index]
		errs[fe.Index] = append(errs[fe.Index], fe)
	}

	var all []FeatureError
	for _, fes := range errs {
		all = append(all, fes...)
	}
	if len(all) > 0 {
		return nil, &ImportError{Errors: all}
	}
	return gs, nil
}

// errorReader fails every read with err.
type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }

// featureDoc is a feature split into its members, each still raw JSON, so
// that one bad feature cannot stop the others from being read and judged.
// The geometry is split too: see decodeGeometry. Like orb/geojson's own
// geometry decoding, member names match case-insensitively (encoding/json).
type featureDoc struct {
	Type       json.RawMessage `json:"type"`
	Geometry   *geometryDoc    `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
	props      map[string]any  // Properties already decoded, by the fast reader
	notObject  string          // the JSON kind of a feature that is not an object
	memberErr  error           // a member of the wrong JSON kind
}

// geometryDoc is a GeoJSON geometry object split into its members.
type geometryDoc struct {
	Type        json.RawMessage `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
	Geometries  json.RawMessage `json:"geometries"`
	parsed      orb.Geometry    // Coordinates already decoded, by the fast reader
}

// scanFeatureCollection walks the top level of the file, handing each
// feature to add as soon as it is read.
func scanFeatureCollection(dec *json.Decoder, add func(featureDoc)) error {
	if err := expectDelim(dec, '{', "the file is not a JSON object"); err != nil {
		return err
	}
	var typ any
	var sawType, sawFeatures bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonFileError(err)
		}
		key, _ := tok.(string) // the decoder only yields strings as keys
		switch key {
		case "type":
			sawType = true
			if err := dec.Decode(&typ); err != nil {
				return jsonFileError(err)
			}
		case "features":
			if sawFeatures {
				return errors.New(`not a GeoJSON FeatureCollection: "features" appears twice`)
			}
			sawFeatures = true
			if err := expectDelim(dec, '[', `not a GeoJSON FeatureCollection: "features" is not an array`); err != nil {
				return err
			}
			for dec.More() {
				var doc featureDoc
				if err := keepTypeError(&doc, dec.Decode(&doc)); err != nil {
					return jsonFileError(err)
				}
				add(doc)
			}
			if _, err := dec.Token(); err != nil { // the closing ]
				return jsonFileError(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return jsonFileError(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return jsonFileError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("not valid JSON: unexpected data after the FeatureCollection at byte %d", dec.InputOffset())
	}
	switch {
	case !sawType:
		return errors.New(`not a GeoJSON FeatureCollection: no "type" member`)
	case typ != "FeatureCollection":
		return fmt.Errorf("not a GeoJSON FeatureCollection: type is %s", jsonString(typ))
	case !sawFeatures:
		return errors.New(`not a GeoJSON FeatureCollection: no "features" array`)
	}
	return nil
}

// keepTypeError records in doc a type error from decoding it, after which
// the decoder has read past the value and reading can carry on. It returns
// any other error.
func keepTypeError(doc *featureDoc, err error) error {
	var ute *json.UnmarshalTypeError
	if err == nil || !errors.As(err, &ute) {
		return err
	}
	if ute.Field == "" {
		*doc = featureDoc{notObject: ute.Value}
	} else {
		doc.memberErr = err
	}
	return nil
}

// expectDelim reads the next token and requires it to be d.
func expectDelim(dec *json.Decoder, d json.Delim, reason string) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonFileError(err)
	}
	if tok != d {
		return errors.New(reason)
	}
	return nil
}

// jsonFileError words a decoder error about the file as a whole.
func jsonFileError(err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("not valid JSON: %s at byte %d", syn, syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errors.New("not valid JSON: the file ends early")
	}
	return fmt.Errorf("not a GeoJSON FeatureCollection: %s", jsonReason(err))
}

// jsonString shows a decoded JSON value in a reason.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 40 {
		return jsonKind(v)
	}
	return string(b)
}

// featureBatch is a run of consecutive features and, once a worker is done
// with it, their grids and problems.
type featureBatch struct {
	start int
	docs  []featureDoc
	gs    []*Grid
	errs  [][]FeatureError
}

// featurePipeline decodes and checks features on one worker per CPU while
// the file is still being read.
type featurePipeline struct {
	crs     geo.CRS
	work    chan *featureBatch
	wg      sync.WaitGroup
	batches []*featureBatch
	cur     *featureBatch
	n       int
}

const featureBatchSize = 256

func startFeaturePipeline(crs geo.CRS) *featurePipeline {
	workers := runtime.GOMAXPROCS(0)
	p := &featurePipeline{crs: crs, work: make(chan *featureBatch, 2*workers)}
	for range workers {
		p.wg.Go(func() {
			for b := range p.work {
				b.gs = make([]*Grid, len(b.docs))
				b.errs = make([][]FeatureError, len(b.docs))
				for k := range b.docs {
					b.gs[k], b.errs[k] = readFeature(b.start+k, &b.docs[k], p.crs)
				}
				b.docs = nil // let the raw JSON go
			}
		})
	}
	return p
}

func (p *featurePipeline) add(doc featureDoc) {
	if p.cur == nil {
		p.cur = &featureBatch{start: p.n, docs: make([]featureDoc, 0, featureBatchSize)}
	}
	p.cur.docs = append(p.cur.docs, doc)
	p.n++
	if len(p.cur.docs) == featureBatchSize {
		p.flush()
	}
}

func (p *featurePipeline) flush() {
	if p.cur != nil {
		p.batches = append(p.batches, p.cur)
		p.work <- p.cur
		p.cur = nil
	}
}

// wait finishes the work and returns every feature's grid and problems in
// file order.
func (p *featurePipeline) wait() ([]*Grid, [][]FeatureError) {
	p.flush()
	close(p.work)
	p.wg.Wait()
	gs := make([]*Grid, 0, p.n)
	errs := make([][]FeatureError, 0, p.n)
	for _, b := range p.batches {
		gs = append(gs, b.gs...)
		errs = append(errs, b.errs...)
	}
	return gs, errs
}

// readFeature decodes and checks one feature. It returns a grid whenever the
// properties could be read, even with errors, so that the hierarchy can
// still be checked around it.
func readFeature(i int, doc *featureDoc, crs geo.CRS) (*Grid, []FeatureError) {
	var errs []FeatureError
	g := &Grid{}
	fail := func(format string, args ...any) {
		errs = append(errs, FeatureError{Index: i, Code: g.Code, Reason: fmt.Sprintf(format, args...)})
	}
	if doc.notObject != "" {
		fail("feature is %s, not an object", article(doc.notObject))
		return nil, errs
	}
	if !jsonStringIs(doc.Type, "Feature") {
		fail(`member "type" is %s, want "Feature"`, jsonValue(doc.Type))
	}
	if doc.memberErr != nil {
		fail("%s", jsonReason(doc.memberErr))
		return nil, errs
	}

	props := doc.props // decoded already by the fast reader, if not nil
	if props == nil {
		if isNull(doc.Properties) {
			props = map[string]any{}
		} else if err := json.Unmarshal(doc.Properties, &props); err != nil {
			fail("properties: %s", jsonReason(err))
			return nil, errs
		}
	}
	readProperties(props, g, fail)

	if doc.Geometry == nil {
		fail("geometry is missing")
		return g, errs
	}
	geom, reason := decodeGeometry(doc.Geometry)
	if reason == "" {
		var mp orb.MultiPolygon
		if mp, reason = featurePolygons(geom); reason == "" {
			for _, reason := range checkPolygons(mp, crs) {
				fail("%s", reason)
			}
			if len(errs) == 0 {
				g.Geometry = mp
			}
			return g, errs
		}
	}
	fail("%s", reason)
	return g, errs
}

// decodeGeometry decodes a geometry as orb/geojson does. For Polygon and
// MultiPolygon it decodes the coordinates member straight into the orb type,
// as orb/geojson itself does once it has split the object: letting it split
// the object again would scan every coordinate twice more, a third of the
// time of a large import. Every other type goes through orb/geojson whole.
func decodeGeometry(gd *geometryDoc) (orb.Geometry, string) {
	if gd.parsed != nil {
		return gd.parsed, ""
	}
	var typ any
	_ = json.Unmarshal(gd.Type, &typ)
	switch typ {
	case "Polygon":
		var p orb.Polygon
		if err := json.Unmarshal(gd.Coordinates, &p); err != nil && !isNull(gd.Coordinates) {
			return nil, "geometry: " + jsonReason(err)
		}
		return p, ""
	case "MultiPolygon":
		var mp orb.MultiPolygon
		if err := json.Unmarshal(gd.Coordinates, &mp); err != nil && !isNull(gd.Coordinates) {
			return nil, "geometry: " + jsonReason(err)
		}
		return mp, ""
	}
	obj := map[string]json.RawMessage{}
	for k, v := range map[string]json.RawMessage{"type": gd.Type, "coordinates": gd.Coordinates, "geometries": gd.Geometries} {
		if v != nil {
			obj[k] = v
		}
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, "geometry: " + err.Error()
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, "geometry: " + geometryReason(gd.Type, err)
	}
	return g.Geometry(), ""
}

// jsonStringIs tells whether raw JSON is the string s.
func jsonStringIs(raw json.RawMessage, s string) bool {
	if len(raw) == len(s)+2 && raw[0] == '"' && raw[len(raw)-1] == '"' && string(raw[1:len(raw)-1]) == s {
		return true
	}
	var v any
	return json.Unmarshal(raw, &v) == nil && v == s
}

// isNull tells whether a member is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// readProperties fills g from the feature's properties, reporting missing
// or mistyped ones. g.Code is set first so later reasons carry it.
func readProperties(props map[string]any, g *Grid, fail func(format string, args ...any)) {
	str := func(key string, required bool) (string, bool) {
		v, ok := props[key]
		if !ok || v == nil {
			if required {
				fail("property %q is missing", key)
			}
			return "", false
		}
		s, ok := v.(string)
		if !ok {
			fail("property %q must be a string, not %s", key, jsonKind(v))
			return "", false
		}
		if required && strings.TrimSpace(s) == "" {
			fail("property %q is empty", key)
			return "", false
		}
		return s, true
	}
	g.Code, _ = str(propCode, true)
	g.Name, _ = str(propName, true)
	if s, ok := str(propLevel, true); ok {
		l, err := ParseLevel(s)
		if err != nil {
			fail("property %q: %v", propLevel, err)
		}
		g.Level = l
	}
	g.Parent, _ = str(propParent, false)
	g.Department, _ = str(propDepartment, false)
	// What is left of the freshly decoded map is the attributes.
	for _, k := range [...]string{propCode, propName, propLevel, propParent, propDepartment} {
		delete(props, k)
	}
	if len(props) > 0 {
		g.Attrs = props
	}
}

// featurePolygons accepts a Polygon or MultiPolygon as a MultiPolygon.
func featurePolygons(geom orb.Geometry) (orb.MultiPolygon, string) {
	switch g := geom.(type) {
	case nil:
		return nil, "geometry is missing"
	case orb.Polygon:
		if len(g) == 0 {
			return nil, "geometry is an empty Polygon"
		}
		return orb.MultiPolygon{g}, ""
	case orb.MultiPolygon:
		if len(g) == 0 {
			return nil, "geometry is an empty MultiPolygon"
		}
		return g, ""
	default:
		return nil, fmt.Sprintf("geometry is a %s, want Polygon or MultiPolygon", g.GeoJSONType())
	}
}

// checkPolygons validates the rings, converts them to WGS84 and normalises
// their winding, in place. It returns one reason per problem found; places
// are given in the file's own CRS.
func checkPolygons(mp orb.MultiPolygon, crs geo.CRS) []string {
	var reasons []string
	ringName := func(pi, ri int) string {
		kind := "exterior ring"
		if ri > 0 {
			kind = "hole " + strconv.Itoa(ri)
		}
		if len(mp) == 1 {
			return kind
		}
		return fmt.Sprintf("polygon %d %s", pi, kind)
	}
	place := func(p orb.Point) string {
		lon, lat := geo.FromWGS84(crs, p[0], p[1])
		return fmt.Sprintf("(%s, %s)", fmtCoord(lon), fmtCoord(lat))
	}

	// Structure and coordinate values first, on the coordinates as given.
	for pi, poly := range mp {
		if len(poly) == 0 {
			reasons = append(reasons, fmt.Sprintf("polygon %d has no rings", pi))
		}
		for ri, ring := range poly {
			if r := checkRingValues(ring); r != "" {
				reasons = append(reasons, ringName(pi, ri)+" "+r)
			}
		}
	}
	if len(reasons) > 0 {
		return reasons
	}

	// Pure per-vertex conversion: vertices shared between grids stay shared.
	if crs != geo.WGS84 {
		for _, poly := range mp {
			for _, ring := range poly {
				for k, p := range ring {
					ring[k][0], ring[k][1] = geo.ToWGS84(crs, p[0], p[1])
				}
			}
		}
	}

	for pi, poly := range mp {
		for ri, ring := range poly {
			// A flat ring also folds back on itself; zero area says it better.
			// A bow-tie's lobes may cancel to zero area too, but it is not flat.
			if distinctVertices(ring) < 3 || (geo.RingArea(ring) == 0 && flat(ring)) {
				reasons = append(reasons, ringName(pi, ri)+" has zero area")
				continue
			}
			if hit, p := geo.RingSelfIntersects(ring); hit {
				reasons = append(reasons, fmt.Sprintf("%s self-intersects at %s", ringName(pi, ri), place(p)))
			}
		}
		if len(reasons) > 0 {
			continue
		}
		var shellBound orb.Bound
		if len(poly) > 1 {
			shellBound = poly[0].Bound()
		}
		for ri, hole := range poly[1:] {
			if p, ok := holeOutside(poly[0], shellBound, hole); ok {
				reasons = append(reasons, fmt.Sprintf("%s is not inside the exterior ring (vertex %s)", ringName(pi, ri+1), place(p)))
			}
		}
		orientRings(poly)
	}
	return reasons
}

// checkRingValues checks a ring's length, closure and coordinate values.
func checkRingValues(ring orb.Ring) string {
	if len(ring) < 4 {
		return fmt.Sprintf("has %d positions, want at least 4", len(ring))
	}
	for _, p := range ring {
		for k, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Sprintf("has a coordinate that is not a finite number (%v)", v)
			}
			if lim := [2]float64{180, 90}[k]; v < -lim || v > lim {
				axis := [2]string{"longitude", "latitude"}[k]
				return fmt.Sprintf("has %s %s outside [-%g, %g]", axis, fmtCoord(v), lim, lim)
			}
		}
	}
	if first, last := ring[0], ring[len(ring)-1]; first != last {
		return fmt.Sprintf("is not closed: first position (%s, %s), last (%s, %s)",
			fmtCoord(first[0]), fmtCoord(first[1]), fmtCoord(last[0]), fmtCoord(last[1]))
	}
	return ""
}

// distinctVertices counts vertices that differ from their predecessor,
// without the closing one; a ring needs three to enclose anything.
func distinctVertices(ring orb.Ring) int {
	n := 0
	for k := 1; k < len(ring); k++ {
		if ring[k] != ring[k-1] {
			n++
		}
	}
	return n
}

// flat tells whether all of a ring's vertices lie on one line.
func flat(ring orb.Ring) bool {
	a := ring[0]
	for _, b := range ring[1:] {
		if b == a {
			continue
		}
		for _, p := range ring {
			if (b[0]-a[0])*(p[1]-a[1]) != (b[1]-a[1])*(p[0]-a[0]) {
				return false
			}
		}
		return true
	}
	return true
}

// holeOutside is the cheap containment test of a hole: its box must lie in
// the shell's and each of its vertices must be inside or on the shell. It
// returns an offending vertex. Holes that cross the shell between vertices
// are left to full validation.
func holeOutside(shell orb.Ring, shellBound orb.Bound, hole orb.Ring) (orb.Point, bool) {
	hb := hole.Bound()
	if !shellBound.Contains(hb.Min) || !shellBound.Contains(hb.Max) {
		for _, p := range hole {
			if !shellBound.Contains(p) {
				return p, true
			}
		}
	}
	for _, p := range hole {
		if !planar.RingContains(shell, p) {
			return p, true
		}
	}
	return orb.Point{}, false
}

// orientRings gives the polygon RFC 7946 winding in place (the rings are
// freshly decoded and ours to change); geo.NormalizePolygon would copy.
func orientRings(poly orb.Polygon) {
	for ri, ring := range poly {
		a := geo.RingArea(ring)
		if (ri == 0 && a < 0) || (ri > 0 && a > 0) {
			slices.Reverse(ring)
		}
	}
}

// geometryReason explains a geometry the library rejected, given its type
// member.
func geometryReason(typ json.RawMessage, err error) string {
	if errors.Is(err, geojson.ErrInvalidGeometry) {
		if typ == nil {
			return `no "type" member`
		}
		return fmt.Sprintf("type %s is not a GeoJSON geometry type", jsonValue(typ))
	}
	return jsonReason(err)
}

// jsonReason turns an encoding/json error into words for a file's author.
func jsonReason(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		if num, ok := strings.CutPrefix(ute.Value, "number "); ok {
			return fmt.Sprintf("number %s does not fit a 64-bit float", num)
		}
		want := "a " + ute.Type.String()
		switch {
		case strings.HasPrefix(ute.Type.String(), "orb."):
			want = "an array of positions"
		case ute.Type.Kind() == reflect.Float64:
			want = "a number"
		case ute.Type.Kind() == reflect.String:
			want = "a string"
		case ute.Type.Kind() == reflect.Slice || ute.Type.Kind() == reflect.Array:
			want = "an array"
		case ute.Type.Kind() == reflect.Map || ute.Type.Kind() == reflect.Struct:
			want = "an object"
		}
		where := ""
		if ute.Field != "" {
			where = fmt.Sprintf(" in %q", ute.Field)
		}
		return fmt.Sprintf("found %s%s, want %s", article(ute.Value), where, want)
	}
	return err.Error()
}

func article(kind string) string {
	switch kind {
	case "array", "object":
		return "an " + kind
	}
	return "a " + kind
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	}
	return fmt.Sprintf("%T", v)
}

// jsonValue shows a short piece of raw JSON in a reason.
func jsonValue(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if s == "" {
		return "missing"
	}
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return s
}

// fmtCoord prints a coordinate as short as it round-trips.
func fmtCoord(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// WriteGeoJSON writes grids in the format ReadGeoJSON reads, one feature
// per line: properties code, name, level, parent, department, then Attrs in
// key order; a one-polygon grid is written as a Polygon. Output is
// deterministic, and reading it back gives the same grids.
func WriteGeoJSON(w io.Writer, gs []*Grid) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, g := range gs {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		if err := writeFeature(bw, g); err != nil {
			return fmt.Errorf("write grids: grid %d (%s): %w", i, g.Code, err)
		}
	}
	bw.WriteString("\n]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write grids: %w", err)
	}
	return nil
}

func writeFeature(bw *bufio.Writer, g *Grid) error {
	bw.WriteString(`{"type":"Feature","properties":{`)
	writeProp := func(first bool, k string, v any) error {
		val, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("property %q: %w", k, err)
		}
		key, _ := json.Marshal(k)
		if !first {
			bw.WriteByte(',')
		}
		bw.Write(key)
		bw.WriteByte(':')
		bw.Write(val)
		return nil
	}
	writeProp(true, propCode, g.Code)
	writeProp(false, propName, g.Name)
	writeProp(false, propLevel, g.Level.String())
	if g.Parent != "" {
		writeProp(false, propParent, g.Parent)
	}
	if g.Department != "" {
		writeProp(false, propDepartment, g.Department)
	}
	keys := make([]string, 0, len(g.Attrs))
	for k := range g.Attrs {
		if reservedProp(k) {
			return fmt.Errorf("attribute %q has the name of a reserved property", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := writeProp(false, k, g.Attrs[k]); err != nil {
			return err
		}
	}
	bw.WriteString(`},"geometry":`)
	var geom orb.Geometry = g.Geometry
	if len(g.Geometry) == 1 {
		geom = g.Geometry[0]
	}
	b, err := json.Marshal(geojson.NewGeometry(geom))
	if err != nil {
		return fmt.Errorf("geometry: %w", err)
	}
	bw.Write(b)
	bw.WriteByte('}')
	return nil
}
