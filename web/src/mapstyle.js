// The MapLibre style: gridd's own vector tiles and GeoJSON on a plain
// background. Nothing is fetched from outside the server, so there are no
// glyphs: labels are HTML (labels.js), not symbol layers.

export const levels = ['district', 'street', 'community', 'grid'];

// levelZooms is the zoom band in which each level is the one coloured,
// matching the first zoom at which the grids tiles carry it.
export const levelZooms = { district: [0, 10], street: [10, 12], community: [12, 13], grid: [13, 24] };

export function levelAtZoom(z) {
  for (const l of levels) {
    const [a, b] = levelZooms[l];
    if (z >= a && z < b) return l;
  }
  return 'grid';
}

export const palette = {
  background: '#e8ecf1',
  zero: '#f6f6f3',
  noData: '#d3d7dd',
  seq: ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'],
  good: ['#d7191c', '#fdae61', '#ffffbf', '#a6d96a', '#1a9641'],
  selected: '#00a3c4',
  alert: '#d50000',
  heat: [
    [0, 'rgba(43,131,186,0)'],
    [0.12, 'rgba(43,131,186,0)'],
    [0.25, 'rgba(103,169,207,0.6)'],
    [0.45, 'rgb(171,221,164)'],
    [0.65, 'rgb(255,237,111)'],
    [0.85, 'rgb(253,141,60)'],
    [1, 'rgb(215,25,28)'],
  ],
  hotspot: { 3: '#d62f27', 2: '#ed7551', 1: '#fab984', 0: 'rgba(0,0,0,0)', '-1': '#c0ccbe', '-2': '#849eba', '-3': '#4575b5' },
  status: {
    reported: '#ef6c00', filed: '#f9a825', dispatched: '#1e88e5',
    handled: '#8e24aa', closed: '#43a047', rejected: '#9e9e9e',
  },
  cluster: '#3f51b5',
  emerging: {
    new_hot_spot: '#e41a1c',
    intensifying_hot_spot: '#99000d',
    consecutive_hot_spot: '#ff7f00',
    persistent_hot_spot: '#fb6a4a',
    diminishing_hot_spot: '#fdae6b',
    sporadic_hot_spot: '#ffd92f',
    oscillating_hot_spot: '#e78ac3',
    historical_hot_spot: '#a6761d',
    new_cold_spot: '#08519c',
    intensifying_cold_spot: '#08306b',
    consecutive_cold_spot: '#2171b5',
    persistent_cold_spot: '#4292c6',
    diminishing_cold_spot: '#6baed6',
    sporadic_cold_spot: '#9ecae1',
    oscillating_cold_spot: '#c6dbef',
    historical_cold_spot: '#deebf7',
  },
  plan: { added: '#2e7d32', reshaped: '#ef6c00', removed: '#c62828', gap: '#7b1fa2', overlap: '#d50000', other: '#ffab00' },
};

// Colour modes of the grids layer. Rates have fixed class breaks, so that
// colours mean the same in every period; counts and hours take quantile
// breaks of what is on the map.
export const colourModes = {
  count: { source: 'tile', breaks: 'quantile', colours: palette.seq, zeroIsNone: true },
  closed_rate: { source: 'stats', field: 'closed_rate', breaks: [0.5, 0.7, 0.85, 0.95], colours: palette.good, rate: true },
  on_time_rate: { source: 'stats', field: 'on_time_rate', breaks: [0.5, 0.7, 0.85, 0.95], colours: palette.good, rate: true },
  rework_rate: { source: 'stats', field: 'rework_rate', breaks: [0.02, 0.05, 0.1, 0.2], colours: [...palette.good].reverse(), rate: true },
  extension_rate: { source: 'stats', field: 'extension_rate', breaks: [0.02, 0.05, 0.1, 0.2], colours: [...palette.good].reverse(), rate: true },
  overdue_open: { source: 'stats', field: 'overdue_open', breaks: 'quantile', colours: palette.seq, zeroIsNone: true },
  median_close_hours: { source: 'stats', field: 'median_close_hours', breaks: 'quantile', colours: palette.seq },
};

// quantileBreaks returns up to n-1 increasing, rounded class breaks of
// values (the lower bounds of classes 2…n).
export function quantileBreaks(values, n = 5) {
  const v = values.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  if (v.length === 0) return [];
  const out = [];
  for (let i = 1; i < n; i++) {
    const q = nice(v[Math.floor((i * v.length) / n)]);
    if (q > v[0] && (out.length === 0 || q > out[out.length - 1])) out.push(q);
  }
  return out;
}

// nice rounds a break to two significant digits (counts stay whole).
function nice(x) {
  if (x <= 10) return Math.max(1, Math.round(x));
  const p = Math.pow(10, Math.floor(Math.log10(x)) - 1);
  return Math.round(x / p) * p;
}

// stepExpr colours value by breaks; colours has breaks.length+1 entries
// used from the top, so fewer breaks still end on the strongest colour.
function stepExpr(value, breaks, colours) {
  const cs = colours.slice(colours.length - breaks.length - 1);
  const e = ['step', value, cs[0]];
  breaks.forEach((b, i) => e.push(b, cs[i + 1]));
  return breaks.length ? e : cs[0];
}

// fillColour is the fill-color expression of one level's grids.
export function fillColour(mode, breaks) {
  const m = colourModes[mode];
  if (m.source === 'tile') {
    const v = ['coalesce', ['get', 'count'], 0];
    return ['case', ['<=', v, 0], palette.zero, stepExpr(v, breaks, m.colours)];
  }
  const v = ['feature-state', 'v'];
  const has = ['==', ['typeof', v], 'number'];
  const scale = stepExpr(v, breaks, m.colours);
  if (m.zeroIsNone) return ['case', has, ['case', ['<=', v, 0], palette.zero, scale], palette.noData];
  return ['case', has, scale, palette.noData];
}

// legendClasses lists [colour, from, to] for the legend.
// min, when known, is the least value coloured, so that the first class
// reads "12 – 30" rather than "1 – 30".
export function legendClasses(mode, breaks, min) {
  const m = colourModes[mode];
  const cs = m.colours.slice(m.colours.length - breaks.length - 1);
  const out = [];
  let lo = m.zeroIsNone && !m.rate ? 1 : 0;
  if (!Array.isArray(m.breaks) && Number.isFinite(min) && min > lo && (!breaks.length || min < breaks[0])) lo = min;
  for (let i = 0; i < cs.length; i++) {
    out.push([cs[i], i === 0 ? lo : breaks[i - 1], i < breaks.length ? breaks[i] : null]);
  }
  return out;
}

function tileURL(origin, layer, query) {
  const q = new URLSearchParams(query).toString();
  return `${origin}/tiles/${layer}/{z}/{x}/{y}.mvt${q ? '?' + q : ''}`;
}

// tileQueries are each layer's tile query for the filters.
export function tileQueries(period, category) {
  const base = { ...period };
  if (category) base.category = category;
  return {
    grids: base,
    incidents: base,
    heat: { ...base, shape: 'points' },
    hotspots: base,
  };
}

export function tileSources(origin, queries, bounds) {
  const src = (layer, minzoom, maxzoom, extra = {}) => ({
    type: 'vector',
    tiles: [tileURL(origin, layer, queries[layer])],
    minzoom,
    maxzoom,
    ...(bounds ? { bounds } : {}),
    ...extra,
  });
  return {
    grids: src('grids', 0, 16, { promoteId: { grids: 'code' } }),
    incidents: src('incidents', 0, 18),
    heat: src('heat', 0, 16),
    hotspots: src('hotspots', 8, 16),
  };
}

export function tileURLs(origin, queries) {
  const out = {};
  for (const [layer, q] of Object.entries(queries)) out[layer] = tileURL(origin, layer, q);
  return out;
}

const emptyFC = { type: 'FeatureCollection', features: [] };

// style builds the whole style; visibility and colours are set afterwards
// from the state.
export function buildStyle(origin, queries, bounds) {
  const sources = {
    ...tileSources(origin, queries, bounds),
    emerging: { type: 'geojson', data: emptyFC },
    alerts: { type: 'geojson', data: emptyFC },
    selection: { type: 'geojson', data: emptyFC },
    'plan-base': { type: 'geojson', data: emptyFC },
    'plan-draft': { type: 'geojson', data: emptyFC },
    'plan-problems': { type: 'geojson', data: emptyFC },
    'plan-problem-points': { type: 'geojson', data: emptyFC },
  };
  const gridsLayer = (id, type, level, paint, extra = {}) => ({
    id, type, source: 'grids', 'source-layer': 'grids',
    filter: ['==', ['get', 'level'], level], paint, ...extra,
  });
  const layers = [
    { id: 'background', type: 'background', paint: { 'background-color': palette.background } },
  ];
  for (const l of levels) {
    const [minzoom, maxzoom] = levelZooms[l];
    layers.push(gridsLayer(`grids-fill-${l}`, 'fill', l,
      { 'fill-color': palette.zero, 'fill-opacity': 0.78, 'fill-antialias': false },
      { minzoom, maxzoom: l === 'grid' ? 24 : maxzoom }));
  }
  layers.push(
    {
      id: 'emerging-fill', type: 'fill', source: 'emerging',
      filter: ['!=', ['get', 'category'], 'no_pattern'],
      paint: {
        'fill-color': ['match', ['get', 'category'], ...Object.entries(palette.emerging).flat(), 'rgba(0,0,0,0)'],
        'fill-opacity': 0.72,
      },
    },
    {
      id: 'hotspots-fill', type: 'fill', source: 'hotspots', 'source-layer': 'hotspots',
      filter: ['!=', ['get', 'bin'], 0],
      paint: {
        'fill-color': ['match', ['to-number', ['get', 'bin']],
          3, palette.hotspot[3], 2, palette.hotspot[2], 1, palette.hotspot[1],
          -1, palette.hotspot['-1'], -2, palette.hotspot['-2'], -3, palette.hotspot['-3'], 'rgba(0,0,0,0)'],
        'fill-opacity': 0.7,
      },
    },
    {
      id: 'heat', type: 'heatmap', source: 'heat', 'source-layer': 'heat',
      paint: {
        'heatmap-weight': heatWeight(50),
        'heatmap-intensity': 0.8,
        'heatmap-radius': heatRadius(),
        'heatmap-color': ['interpolate', ['linear'], ['heatmap-density'], ...palette.heat.flat()],
        'heatmap-opacity': 0.8,
      },
    },
    gridsLayer('grids-line-grid', 'line', 'grid', { 'line-color': '#6f7b8c', 'line-width': ['interpolate', ['linear'], ['zoom'], 13, 0.4, 16, 1.2], 'line-opacity': 0.75 }, { minzoom: 13 }),
    gridsLayer('grids-line-community', 'line', 'community', { 'line-color': '#4a5668', 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 0.8, 16, 1.8] }, { minzoom: 12 }),
    gridsLayer('grids-line-street', 'line', 'street', { 'line-color': '#2b3545', 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 1.2, 16, 2.8] }, { minzoom: 10 }),
    gridsLayer('grids-line-district', 'line', 'district', { 'line-color': '#141b26', 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1.5, 16, 4] }),
    {
      id: 'alerts-fill', type: 'fill', source: 'alerts',
      paint: { 'fill-color': palette.alert, 'fill-opacity': 0.18 },
    },
    {
      id: 'alerts-line', type: 'line', source: 'alerts',
      paint: { 'line-color': palette.alert, 'line-width': 2.5, 'line-dasharray': [2, 1] },
    },
    {
      id: 'incidents-clusters', type: 'circle', source: 'incidents', 'source-layer': 'incidents',
      filter: ['!', ['has', 'id']],
      paint: {
        'circle-color': palette.cluster,
        'circle-opacity': 0.7,
        'circle-radius': ['interpolate', ['linear'], ['sqrt', ['coalesce', ['get', 'count'], 1]], 1, 4, 5, 10, 20, 22, 50, 34],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1,
      },
    },
    {
      id: 'incidents-points', type: 'circle', source: 'incidents', 'source-layer': 'incidents',
      filter: ['has', 'id'],
      paint: {
        'circle-color': ['match', ['get', 'status'], ...Object.entries(palette.status).flat(), '#607d8b'],
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 14, 4, 18, 8],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1.2,
      },
    },
    {
      id: 'plan-base-removed', type: 'fill', source: 'plan-base',
      filter: ['==', ['get', '_change'], 'removed'],
      paint: { 'fill-color': palette.plan.removed, 'fill-opacity': 0.35 },
    },
    {
      id: 'plan-draft-fill', type: 'fill', source: 'plan-draft',
      filter: ['has', '_change'],
      paint: {
        'fill-color': ['match', ['get', '_change'], 'added', palette.plan.added, 'reshaped', palette.plan.reshaped, 'rgba(0,0,0,0)'],
        'fill-opacity': 0.45,
      },
    },
    {
      id: 'plan-draft-line', type: 'line', source: 'plan-draft',
      paint: {
        'line-color': ['match', ['get', 'level'], 'district', '#141b26', 'street', '#2b3545', 'community', '#4a5668', '#7d8898'],
        'line-width': ['match', ['get', 'level'], 'district', 3, 'street', 2, 'community', 1.2, 0.6],
      },
    },
    {
      id: 'plan-base-removed-line', type: 'line', source: 'plan-base',
      filter: ['==', ['get', '_change'], 'removed'],
      paint: { 'line-color': palette.plan.removed, 'line-width': 2, 'line-dasharray': [2, 1.5] },
    },
    {
      id: 'plan-problems-fill', type: 'fill', source: 'plan-problems',
      filter: ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]],
      paint: {
        'fill-color': ['match', ['get', 'kind'], 'gap', palette.plan.gap, 'overlap', palette.plan.overlap, palette.plan.other],
        'fill-opacity': 0.75,
      },
    },
    {
      id: 'plan-problems-line', type: 'line', source: 'plan-problems',
      filter: ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon', 'LineString', 'MultiLineString']]],
      paint: {
        'line-color': ['match', ['get', 'kind'], 'gap', palette.plan.gap, 'overlap', palette.plan.overlap, palette.plan.other],
        'line-width': 2.5,
      },
    },
    {
      // Problem areas are often metres wide: a ring marks each one at any zoom.
      id: 'plan-problem-points', type: 'circle', source: 'plan-problem-points',
      paint: {
        'circle-radius': 11,
        'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-width': 3,
        'circle-stroke-color': ['match', ['get', 'kind'], 'gap', palette.plan.gap, 'overlap', palette.plan.overlap, palette.plan.other],
      },
    },
    {
      id: 'selection-line', type: 'line', source: 'selection',
      paint: { 'line-color': '#ffffff', 'line-width': 6, 'line-opacity': 0.9 },
    },
    {
      id: 'selection-line-inner', type: 'line', source: 'selection',
      paint: { 'line-color': palette.selected, 'line-width': 3 },
    },
  );
  return { version: 8, name: 'gridd dashboard', sources, layers };
}

// heatRadius keeps the kernel at 2.2 times the spacing of the heat points.
// The tiles put a point every 16 px of a 256-px tile, which MapLibre draws
// 512 px wide at its own zoom and up to twice that before the next zoom's
// tiles take over, so the spacing runs from 32 to 64 px within each zoom.
function heatRadius() {
  const r0 = 2.2 * 32;
  const e = ['interpolate', ['linear'], ['zoom']];
  for (let z = 0; z <= 22; z++) e.push(z, r0, z + 0.999, r0 * Math.pow(2, 0.999));
  return e;
}

// heatWeight maps a heat point's density (incidents per km²) to 0…1,
// reaching 1 at top.
export function heatWeight(top) {
  return ['interpolate', ['linear'], ['coalesce', ['get', 'density'], 0], 0, 0, Math.max(top, 1e-6), 1];
}

// layerGroups are the style layers each dashboard layer switches.
export const layerGroups = {
  grids: levels.map((l) => `grids-fill-${l}`),
  heat: ['heat'],
  incidents: ['incidents-clusters', 'incidents-points'],
  hotspots: ['hotspots-fill'],
  emerging: ['emerging-fill'],
  // Boundaries always show in monitor mode: they are how one reads the map.
  boundaries: ['grids-line-grid', 'grids-line-community', 'grids-line-street', 'grids-line-district', 'alerts-fill', 'alerts-line'],
  planner: ['plan-base-removed', 'plan-draft-fill', 'plan-draft-line', 'plan-base-removed-line'],
  problems: ['plan-problems-fill', 'plan-problems-line', 'plan-problem-points'],
};
