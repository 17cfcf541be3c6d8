package grids

import (
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoSet is returned when no published set is in force at a time.
var ErrNoSet = errors.New("no grid set in force at that time")

// Registry holds the published grid sets and answers which index is in
// force at a time. Readers never block: a new list of sets is built aside
// and swapped in atomically, so geocoding stays safe while a set is
// published.
type Registry struct {
	opt  IndexOptions
	snap atomic.Pointer[registrySnap]
	mu   sync.Mutex // serialises writers
}

type registrySnap struct {
	versions []*version // published, by EffectiveFrom ascending
}

type version struct {
	set  *Set
	once sync.Once
	ix   *Index
	err  error
}

func (v *version) index(opt IndexOptions) (*Index, error) {
	v.once.Do(func() { v.ix, v.err = NewIndex(v.set, opt) })
	return v.ix, v.err
}

// NewRegistry makes an empty registry.
func NewRegistry(opt IndexOptions) *Registry {
	r := &Registry{opt: opt}
	r.snap.Store(&registrySnap{})
	return r
}

// Replace installs a new list of published sets. Indexes of sets already
// known (same ID, same effective dates) are kept; new ones are built on
// first use, except the one in force now, which is built before the swap so
// that no request waits for it.
func (r *Registry) Replace(sets []*Set) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	known := map[int64]*version{}
	for _, v := range old.versions {
		known[v.set.ID] = v
	}
	var vs []*version
	for _, s := range sets {
		if s.Status != StatusPublished || s.EffectiveFrom == nil {
			continue
		}
		if v, ok := known[s.ID]; ok && v.set == s {
			vs = append(vs, v)
			continue
		}
		if v, ok := known[s.ID]; ok && sameDates(v.set, s) && len(v.set.Grids) == len(s.Grids) {
			// Same version with its end date unchanged: keep the index.
			vs = append(vs, v)
			continue
		}
		vs = append(vs, &version{set: s})
	}
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].set.EffectiveFrom.Before(*vs[j].set.EffectiveFrom) })
	next := &registrySnap{versions: vs}
	if v := next.at(time.Now()); v != nil {
		if _, err := v.index(r.opt); err != nil {
			return err
		}
	}
	r.snap.Store(next)
	return nil
}

func sameDates(a, b *Set) bool {
	eq := func(x, y *time.Time) bool {
		if x == nil || y == nil {
			return x == y
		}
		return x.Equal(*y)
	}
	return eq(a.EffectiveFrom, b.EffectiveFrom) && eq(a.EffectiveTo, b.EffectiveTo)
}

func (s *registrySnap) at(t time.Time) *version {
	// The last version starting at or before t, if it has not ended.
	i := sort.Search(len(s.versions), func(i int) bool { return s.versions[i].set.EffectiveFrom.After(t) })
	if i == 0 {
		return nil
	}
	v := s.versions[i-1]
	if v.set.EffectiveTo != nil && !t.Before(*v.set.EffectiveTo) {
		return nil
	}
	return v
}

// At returns the index of the set in force at t.
func (r *Registry) At(t time.Time) (*Index, error) {
	v := r.snap.Load().at(t)
	if v == nil {
		return nil, ErrNoSet
	}
	return v.index(r.opt)
}

// LocateCode gives the code of the leaf grid holding a point under the set
// in force at t; "" outside every grid or when no set is in force.
func (r *Registry) LocateCode(lon, lat float64, t time.Time) string {
	ix, err := r.At(t)
	if err != nil {
		return ""
	}
	return ix.LocateCode(lon, lat)
}

// Current is At(time.Now()).
func (r *Registry) Current() (*Index, error) { return r.At(time.Now()) }

// Sets lists the published sets, oldest first.
func (r *Registry) Sets() []*Set {
	vs := r.snap.Load().versions
	out := make([]*Set, len(vs))
	for i, v := range vs {
		out[i] = v.set
	}
	return out
}
