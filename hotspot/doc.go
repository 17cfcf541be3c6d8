// Package hotspot holds the analytics of gridd as pure functions of data:
// binning incidents into square cells of a local metric projection, the
// Getis-Ord Gi* and Gi statistics with Benjamini–Hochberg FDR bins,
// emerging hot spot analysis (space-time Gi*, Mann–Kendall, the 17 ArcGIS
// Pro categories), quartic kernel density for heat maps, per-grid alerts
// against each grid's own baseline, and the accountability figures of
// city bulletins. Nothing here does I/O; the API and tile layers feed it
// columns and serialise what it returns.
//
// Definitions and defaults are written up in README.md beside this file;
// testdata/gen_reference.R produces the R (spdep, stats) reference values
// the tests compare against.
package hotspot
