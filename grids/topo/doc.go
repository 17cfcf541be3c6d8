// Package topo checks and edits the topology of grid sets: validation
// (overlaps, gaps, invalid geometry, slivers, children outside their
// parents, code problems), draft edits that answer with the change in
// validation (replace, split, merge, move), and the impact diff between
// two sets (area changes, incidents changing hands, workload balance,
// compactness and contiguity).
//
// # Geometry model
//
// Grids are WGS84 lon/lat multipolygons whose edges are straight lines in
// lon/lat, as RFC 7946 has it. Overlays (simplefeatures) run in a local
// equirectangular projection about the set's centre, which is affine in
// lon/lat and so keeps every incidence (a shared vertex, a vertex on an
// edge) exactly; edits overlay in lon/lat itself so the vertices they keep
// are the input's, bit for bit. Areas are not read off the projection: each
// ring's area is integrated on the WGS84 ellipsoid, −∮F(φ)dλ with
// F(φ) = ∫M·N·cos φ dφ in closed form (exact for the octant, to 1e-12), and
// perimeters rescale each edge by the ellipsoid's radii at its latitude.
//
// # How Validate stays fast and exact
//
// For each parent (and for the top-level grids against a jurisdiction
// given), the directed edges of the children are added up as a 1-chain,
// an edge cancelling its reverse, and compared with the parent's own
// edges. Equality proves, with no arithmetic on coordinates, that the
// children's indicator functions add up to the parent's almost everywhere:
// no overlap among them, no gap in the parent, nothing outside it. A
// family that fails is overlaid exactly (parent minus the union of its
// children, each child minus the parent). Overlaps between leaves are then
// looked for only where such a proof is missing: among R-tree neighbours
// of a leaf whose chain of families up to its root failed somewhere (or
// whose root overlaps another root), first with an edge test that clears
// pairs touching only along shared edges and corners, then by exact
// intersection. Without a jurisdiction, the top-level grids' own boundary
// chain is traced into rings; clockwise rings are holes among them, and
// gaps. Uncovered areas are split into true gaps (no leaf covers them) and
// parts of a parent covered only by other parents' leaves. A clean
// 50,000-grid city thus costs one pass over its edges.
//
// Shared boundaries must share vertices for the proof to apply; a vertex
// on a neighbour's edge (a T-junction) is still handled exactly, by the
// overlay, only slower. Split inserts its cut points into the neighbours
// and parents that share the cut edges, to keep the proof applicable.
package topo
