package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/store"
)

// Role is what an API key may do. Roles are ordered: each may do what the
// roles below it may.
//
//	viewer   the public wall map: grids, geocoding, grid/heat/hotspot tiles
//	         (heat and hotspot cells under KAnonymity incidents withheld),
//	         incident lists without location, description or history
//	reporter field and citizen apps: also reports incidents (POST, Open311)
//	         and reads incidents whole (location, description, history,
//	         incident tiles, OGC incidents, Open311 requests)
//	analyst  the command centre: also works the case workflow (PATCH),
//	         reads analytics, statistics and exports, and exact heat and
//	         hotspot cells
//	planner  also drafts, checks and publishes grid sets
//	admin    everything, routes added without a policy entry included
type Role int8

const (
	RoleNone Role = iota
	RoleViewer
	RoleReporter
	RoleAnalyst
	RolePlanner
	RoleAdmin
)

var roleNames = [...]string{"", "viewer", "reporter", "analyst", "planner", "admin"}

func (r Role) String() string {
	if r <= RoleNone || r > RoleAdmin {
		return "none"
	}
	return roleNames[r]
}

// Roles lists the roles from the least to the most privileged.
func Roles() []Role { return []Role{RoleViewer, RoleReporter, RoleAnalyst, RolePlanner, RoleAdmin} }

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if roleNames[r] == s {
			return r, nil
		}
	}
	return RoleNone, fmt.Errorf("unknown role %q (want viewer, reporter, analyst, planner or admin)", s)
}

// KAnonymity is the smallest number of incidents a heat or hotspot cell
// shown to a viewer may hold (SPEC: k=3).
const KAnonymity = 3

// Access is what the request's key may do: its role and its scope.
type Access struct {
	KeyID string
	Name  string
	Role  Role
	// Scope is a hierarchy code prefix (a district, street, community or
	// grid code); "" sees the whole city.
	Scope string
}

// Can tells whether the access reaches role r.
func (a Access) Can(r Role) bool { return a.Role >= r }

// Sees tells whether an incident of grid gridCode is within the key's
// scope. Every handler that shows incidents, counts or cells derived from
// them asks this (or GridPrefix) so that a scoped key never learns of an
// incident outside its subtree. Unassigned incidents belong to no scope.
func (a Access) Sees(gridCode string) bool {
	return a.Scope == "" || strings.HasPrefix(gridCode, a.Scope)
}

// GridPrefix narrows a requested grid code prefix ("" for all) to the
// key's scope. ok is false when they do not overlap: nothing can match.
func (a Access) GridPrefix(requested string) (prefix string, ok bool) {
	switch {
	case a.Scope == "":
		return requested, true
	case strings.HasPrefix(requested, a.Scope):
		return requested, true
	case strings.HasPrefix(a.Scope, requested):
		return a.Scope, true
	}
	return "", false
}

// MinCount is the smallest cell count heat and hotspot outputs may show
// this access: KAnonymity for viewers, 0 (every cell) for the others.
func (a Access) MinCount() int {
	if a.Role <= RoleViewer {
		return KAnonymity
	}
	return 0
}

// By names the access in incident histories.
func (a Access) By() string {
	switch {
	case a.KeyID == "":
		return "open"
	case a.Name != "":
		return a.Name + " (" + a.KeyID + ")"
	}
	return "key " + a.KeyID
}

type accessKey struct{}

// AccessOf returns the access the auth middleware granted the request; the
// zero Access (no role) when it did not run.
func AccessOf(r *http.Request) Access {
	a, _ := r.Context().Value(accessKey{}).(Access)
	return a
}

func withAccess(ctx context.Context, a Access) context.Context {
	return context.WithValue(ctx, accessKey{}, a)
}

// require refuses a request whose key is below role.
func require(r *http.Request, role Role) error {
	a := AccessOf(r)
	if !a.Can(role) {
		return problem(http.StatusForbidden, "this needs the %s role; the key has %s", role, a.Role)
	}
	return nil
}

// keyPrefix starts every secret, so that leaked keys are easy to search for.
const keyPrefix = "gridd_"

// NewKey makes an API key: the secret, handed to its holder once and never
// stored, and the record to store, which keeps only its SHA-256. scope, when
// given, is a hierarchy code (6, 9, 12 or 15 digits).
func NewKey(role Role, scope, name string, now time.Time) (secret string, k store.Key, err error) {
	if role <= RoleNone || role > RoleAdmin {
		return "", store.Key{}, fmt.Errorf("new key: unknown role %d", role)
	}
	if err := checkScope(scope); err != nil {
		return "", store.Key{}, err
	}
	var raw [32]byte
	var id [6]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", store.Key{}, fmt.Errorf("new key: %w", err)
	}
	if _, err := rand.Read(id[:]); err != nil {
		return "", store.Key{}, fmt.Errorf("new key: %w", err)
	}
	secret = keyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	k = store.Key{
		ID: hex.EncodeToString(id[:]), Name: name, Hash: HashKey(secret),
		Role: role.String(), Scope: scope, CreatedAt: now,
	}
	return secret, k, nil
}

// HashKey is what the store keeps of a secret. The secret carries 256
// random bits, so a plain SHA-256 cannot be reversed by guessing.
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func checkScope(scope string) error {
	if scope == "" {
		return nil
	}
	if strings.Trim(scope, "0123456789") != "" || grids.LevelOfCode(scope) == grids.LevelUnknown {
		return fmt.Errorf("scope %q: want a district, street, community or grid code (6, 9, 12 or 15 digits)", scope)
	}
	return nil
}

// KeyCacheTTL bounds how long a key looked up stays trusted without asking
// the store again: a revocation takes effect within it.
const KeyCacheTTL = 10 * time.Second

// keyCache remembers recent key lookups, so that a map client fetching
// dozens of tiles a second does not cost a store query each.
type keyCache struct {
	mu      sync.Mutex
	entries map[string]keyCacheEntry
}

type keyCacheEntry struct {
	key     store.Key
	expires time.Time
}

const keyCacheMax = 4096

func (c *keyCache) lookup(ctx context.Context, st store.Store, hash []byte) (store.Key, error) {
	h := string(hash)
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[h]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	k, err := st.KeyByHash(ctx, hash)
	if err != nil {
		return store.Key{}, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= keyCacheMax {
		c.entries = make(map[string]keyCacheEntry)
	}
	c.entries[h] = keyCacheEntry{key: k, expires: now.Add(KeyCacheTTL)}
	c.mu.Unlock()
	return k, nil
}

// routePolicy is the least role each route needs, by method and path
// template. Handlers refine it where one route serves several classes
// (the incidents tile layer, the OGC incidents collection). A route missing
// here needs admin, so that a new endpoint is closed until someone decides.
func routePolicy() map[string]Role {
	public := RoleNone
	return map[string]Role{
		"GET /healthz": public,
		"GET /readyz":  public,
		"GET /metrics": public,
		"GET /":        public, // the dashboard page; its data calls carry a key

		"GET /api/v1/grids":            RoleViewer,
		"GET /api/v1/grids/{code}":     RoleViewer,
		"GET /api/v1/geocode":          RoleViewer,
		"POST /api/v1/geocode":         RoleViewer,
		"GET /api/v1/incidents":        RoleViewer, // viewers get a reduced view
		"GET /api/v1/incidents/{id}":   RoleViewer,
		"POST /api/v1/incidents":       RoleReporter,
		"PATCH /api/v1/incidents/{id}": RoleAnalyst,

		"GET /api/v1/stats/grids": RoleAnalyst,
		"GET /api/v1/hotspots":    RoleViewer, // k-anonymity for viewers, in the handler
		"GET /api/v1/emerging":    RoleAnalyst,
		"GET /api/v1/alerts":      RoleAnalyst,

		"GET /api/v1/gridsets":                 RolePlanner,
		"POST /api/v1/gridsets":                RolePlanner,
		"GET /api/v1/gridsets/{id}":            RolePlanner,
		"GET /api/v1/gridsets/{id}/validation": RolePlanner,
		"GET /api/v1/gridsets/{id}/diff":       RolePlanner,
		"POST /api/v1/gridsets/{id}/publish":   RolePlanner,
		"POST /api/v1/gridsets/{id}/edits":     RolePlanner,

		"GET " + tileRoute:           RoleViewer, // incidents layer: reporter, in the handler
		"GET " + tileJSONRoute:       RoleViewer,
		"GET /styles/dashboard.json": RoleViewer,

		"GET /ogc":                                              RoleViewer,
		"GET /ogc/conformance":                                  RoleViewer,
		"GET /ogc/collections":                                  RoleViewer,
		"GET /ogc/collections/{collectionId}":                   RoleViewer, // incidents: reporter
		"GET /ogc/collections/{collectionId}/items":             RoleViewer,
		"GET /ogc/collections/{collectionId}/items/{featureId}": RoleViewer,

		"GET /open311/v2/discovery.json":     RoleNone,
		"GET /open311/v2/services.json":      RoleViewer,
		"GET /open311/v2/requests.json":      RoleReporter,
		"POST /open311/v2/requests.json":     RoleReporter,
		"GET /open311/v2/requests/{id}.json": RoleReporter,
	}
}

// authMiddleware finds the request's key and checks it against the route's
// policy. It runs after routing, so the route's template is known.
func (s *Server) authMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		need := RoleAdmin
		if cr := mux.CurrentRoute(r); cr != nil {
			if t, err := cr.GetPathTemplate(); err == nil {
				if role, ok := s.policy[r.Method+" "+t]; ok {
					need = role
				}
			}
		}
		if s.opt.Open {
			next.ServeHTTP(w, r.WithContext(withAccess(r.Context(), Access{Role: RoleAdmin})))
			return
		}
		if need == RoleNone {
			next.ServeHTTP(w, r)
			return
		}
		secret := bearer(r)
		if secret == "" && strings.HasPrefix(r.URL.Path, open311Prefix) {
			// GeoReport clients send the key as the api_key parameter.
			secret = r.URL.Query().Get("api_key")
			if secret == "" && r.Method == http.MethodPost && isForm(r) {
				secret = r.PostFormValue("api_key")
			}
		}
		if secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gridd"`)
			writeProblem(w, r, problem(http.StatusUnauthorized, "an API key is required: send Authorization: Bearer KEY"))
			return
		}
		k, err := s.keys.lookup(r.Context(), s.b.Store, HashKey(secret))
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gridd", error="invalid_token"`)
			writeProblem(w, r, problem(http.StatusUnauthorized, "unknown or revoked API key"))
			return
		}
		if err != nil {
			s.log.Error("look up API key", "err", err)
			writeProblem(w, r, problem(http.StatusServiceUnavailable, "cannot check the API key now"))
			return
		}
		role, err := ParseRole(k.Role)
		if err != nil {
			s.log.Error("stored API key has an unknown role", "key", k.ID, "role", k.Role)
			role = RoleNone
		}
		a := Access{KeyID: k.ID, Name: k.Name, Role: role, Scope: k.Scope}
		if li, ok := r.Context().Value(logInfoKey{}).(*logInfo); ok {
			li.key = k.ID
		}
		if !a.Can(need) {
			writeProblem(w, r, problem(http.StatusForbidden, "this needs the %s role; the key has %s", need, a.Role))
			return
		}
		next.ServeHTTP(w, r.WithContext(withAccess(r.Context(), a)))
	})
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

func isForm(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")
}
