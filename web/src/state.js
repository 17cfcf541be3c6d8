// The view lives in the URL hash, so a link or a reload shows the same
// map: #map=zoom/lat/lon&layers=grids,heat&from=…&to=…&cat=…&colour=…

export const layerNames = ['grids', 'heat', 'incidents', 'hotspots', 'emerging', 'labels'];
const defaultLayers = ['grids', 'heat', 'labels'];
export const colourModes = ['count', 'closed_rate', 'on_time_rate', 'overdue_open', 'rework_rate', 'extension_rate', 'median_close_hours'];
export const tabs = ['detail', 'alerts', 'hotspots', 'emerging'];

const dateRe = /^\d{4}-\d{2}-\d{2}$/;

export function defaultState() {
  return {
    view: null, // {zoom, lat, lon}; null: fit the city
    layers: new Set(defaultLayers),
    // from and to are city dates (YYYY-MM-DD); to is the last day shown.
    preset: '30',
    from: '',
    to: '',
    category: '',
    colour: 'count',
    lang: 'zh',
    grid: '',
    tab: 'detail',
    mode: 'monitor',
    set: '',
    base: '',
  };
}

export function parseHash(hash, base = defaultState()) {
  const s = { ...base, layers: new Set(base.layers) };
  const q = new URLSearchParams(hash.replace(/^#/, ''));
  const m = (q.get('map') || '').split('/').map(Number);
  if (m.length === 3 && m.every(Number.isFinite) && m[0] >= 0 && m[0] <= 24 && Math.abs(m[1]) <= 85 && Math.abs(m[2]) <= 180) {
    s.view = { zoom: m[0], lat: m[1], lon: m[2] };
  }
  if (q.has('layers')) {
    s.layers = new Set(q.get('layers').split(',').filter((l) => layerNames.includes(l)));
  }
  const preset = q.get('period');
  if (['7', '30', '90', 'all', 'custom'].includes(preset)) s.preset = preset;
  if (dateRe.test(q.get('from') || '')) s.from = q.get('from');
  if (dateRe.test(q.get('to') || '')) s.to = q.get('to');
  if (s.from || s.to) s.preset = q.get('period') === null ? 'custom' : s.preset;
  const cat = q.get('cat') || '';
  if (/^[A-Za-z0-9]{1,8}$/.test(cat)) s.category = cat.toUpperCase();
  if (colourModes.includes(q.get('colour'))) s.colour = q.get('colour');
  if (['zh', 'en'].includes(q.get('lang'))) s.lang = q.get('lang');
  if (/^\d{6,15}$/.test(q.get('grid') || '')) s.grid = q.get('grid');
  if (tabs.includes(q.get('tab'))) s.tab = q.get('tab');
  if (q.get('mode') === 'planner') s.mode = 'planner';
  if (/^\d+$/.test(q.get('set') || '')) s.set = q.get('set');
  if (/^\d+$/.test(q.get('base') || '')) s.base = q.get('base');
  return s;
}

export function formatHash(s) {
  const parts = [];
  if (s.view) {
    const { zoom, lat, lon } = s.view;
    parts.push('map=' + [zoom.toFixed(2), lat.toFixed(5), lon.toFixed(5)].join('/'));
  }
  parts.push('layers=' + layerNames.filter((l) => s.layers.has(l)).join(','));
  parts.push('period=' + s.preset);
  if (s.from) parts.push('from=' + s.from);
  if (s.to) parts.push('to=' + s.to);
  if (s.category) parts.push('cat=' + encodeURIComponent(s.category));
  if (s.colour !== 'count') parts.push('colour=' + s.colour);
  parts.push('lang=' + s.lang);
  if (s.grid) parts.push('grid=' + s.grid);
  if (s.tab !== 'detail') parts.push('tab=' + s.tab);
  if (s.mode === 'planner') {
    parts.push('mode=planner');
    if (s.set) parts.push('set=' + s.set);
    if (s.base) parts.push('base=' + s.base);
  }
  return '#' + parts.join('&');
}

// Dates: the city runs on China Standard Time (UTC+8), as the API reads
// plain dates.

const dayMs = 86400000;
const cstOffsetMs = 8 * 3600000;

// cityDate is the YYYY-MM-DD of instant t (ms) in the city.
export function cityDate(t) {
  return new Date(t + cstOffsetMs).toISOString().slice(0, 10);
}

// addDays shifts a YYYY-MM-DD date by n days.
export function addDays(date, n) {
  return new Date(Date.parse(date + 'T00:00:00Z') + n * dayMs).toISOString().slice(0, 10);
}

export function daysBetween(from, to) {
  return Math.round((Date.parse(to + 'T00:00:00Z') - Date.parse(from + 'T00:00:00Z')) / dayMs);
}

// cityMidnight is the instant (ms) a city date begins.
export function cityMidnight(date) {
  return Date.parse(date + 'T00:00:00Z') - cstOffsetMs;
}

// periodParams turns the state's inclusive dates into the API's [from, to).
export function periodParams(s) {
  const p = {};
  if (s.from) p.from = s.from;
  if (s.to) p.to = addDays(s.to, 1);
  return p;
}

// applyPreset sets from and to for a preset ending on the data's last day.
export function applyPreset(s, lastDay) {
  if (s.preset === 'all') {
    s.from = '';
    s.to = '';
  } else if (s.preset !== 'custom') {
    const n = Number(s.preset);
    s.to = lastDay;
    s.from = addDays(lastDay, -(n - 1));
  }
}
