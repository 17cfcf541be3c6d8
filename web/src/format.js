// Small formatting helpers shared by the panels.

export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

export function num(v, digits = 0) {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return '–';
  return Number(v).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function pct(v) {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return '–';
  return (Number(v) * 100).toFixed(1) + '%';
}

// area formats square metres as m² or km².
export function area(m2, i18n) {
  if (!Number.isFinite(m2)) return '–';
  if (Math.abs(m2) >= 100000) return num(m2 / 1e6, 2) + ' ' + i18n.t('unit.km2');
  return num(m2, 0) + ' ' + i18n.t('unit.m2');
}

// cityTime writes an instant as city time (UTC+8), YYYY-MM-DD HH:MM.
export function cityTime(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '–';
  return new Date(t + 8 * 3600000).toISOString().slice(0, 16).replace('T', ' ');
}

// duration writes hours as "5 h" or "3.2 d".
export function duration(hours, i18n) {
  if (!Number.isFinite(hours)) return '–';
  if (hours < 48) return num(hours, 1) + ' ' + i18n.t('unit.hours');
  return num(hours / 24, 1) + ' ' + i18n.t('unit.days');
}

export function el(tag, attrs = {}, html = '') {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  if (html) e.innerHTML = html;
  return e;
}

// bboxOf returns [minLon, minLat, maxLon, maxLat] of a GeoJSON geometry.
export function bboxOf(geom) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      if (c[0] < b[0]) b[0] = c[0];
      if (c[1] < b[1]) b[1] = c[1];
      if (c[0] > b[2]) b[2] = c[0];
      if (c[1] > b[3]) b[3] = c[1];
      return;
    }
    for (const x of c) walk(x);
  };
  if (geom && geom.coordinates) walk(geom.coordinates);
  if (geom && geom.type === 'GeometryCollection') for (const g of geom.geometries) {
    const gb = bboxOf(g);
    b[0] = Math.min(b[0], gb[0]); b[1] = Math.min(b[1], gb[1]);
    b[2] = Math.max(b[2], gb[2]); b[3] = Math.max(b[3], gb[3]);
  }
  return b;
}
