// Package tiles encodes the map layers as Mapbox Vector Tiles (MVT 2.1) and
// keeps rendered tiles in a cache.
//
// Layers, one per tile, each under its own name:
//
//   - grids (GridLayer): grid polygons with code, name, level and the
//     count for the requested period. Districts from zoom 0, streets from
//     10, communities from 12, grids from 13 (GridLayerOptions.MinZoom);
//     styles tell levels apart by the level property. Each level's rings
//     are cut into arcs shared by neighbours and simplified per zoom once,
//     so shared edges stay shared and no slivers open.
//   - incidents (PointIndex.RenderIncidents): clusters with count under
//     zoom 14, single incidents with id, category, status and grid from 14.
//   - heat (PointIndex.RenderHeat): counts per square cell of 16 px, with
//     density in incidents per km².
//   - hotspots (HotspotLayer): Gi* cells with count, z, p and bin.
//
// Every tile uses extent 4096 with a buffer (DefaultBufferPx), is clipped,
// capped in features, and has polygon exteriors with positive area by the
// surveyor's formula in tile coordinates (clockwise on screen, y down),
// holes negative. Geometry is written straight to the protobuf wire
// format; nothing the caller passed in is modified.
//
// Incident filtering: PointIndex sorts points by a Morton key, so a tile
// or cell is a run of the index found by binary search. Unfiltered counts
// are run lengths; a from/to/category filter scans only the tile's runs
// over flat time and category columns.
//
// Serving: Cache holds tiles gzipped with a strong ETag, keyed by layer,
// tile, query and data version, evicts by bytes, and Invalidate drops
// exactly the tiles (all zooms, all queries) whose buffered area meets a
// changed bound.
package tiles
