// The alerts, hot spot and emerging hot spot panels. Each loads when its
// tab (or, for emerging, its map layer) needs it and keeps the last answer
// per query.

import { listOf, featuresOf } from './api.js';
import { esc, num, cityTime } from './format.js';
import { labelPoint } from './labels.js';
import { palette } from './mapstyle.js';

const alertsShown = 30;

// fmtP writes a p or q value as "=0.012" or "<0.001".
function fmtP(v) {
  if (!Number.isFinite(Number(v))) return '=–';
  return Number(v) < 0.001 ? '<0.001' : '=' + Number(v).toFixed(3);
}
const topCells = 10;

// placeName names the grid under a point ("社区 · 网格"), for cells that
// have no name of their own.
async function placeName(api, lon, lat, signal) {
  try {
    const r = await api.get('/api/v1/geocode', { lon: lon.toFixed(6), lat: lat.toFixed(6) }, { signal });
    if (!r || !r.grid) return '';
    const comm = (r.ancestors || []).find((a) => a.level === 'community');
    // Demo grid names already start with their community's.
    return comm && !r.grid.name.startsWith(comm.name) ? comm.name + ' · ' + r.grid.name : r.grid.name;
  } catch {
    return '';
  }
}

function loadingHTML(i18n, title) {
  return `<h2>${esc(title)}</h2><p class="muted">${esc(i18n.t('detail.loading'))}</p>`;
}

export class AlertsPanel {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx; // {api, i18n, gridFeature(code), onPick(code), onAlerts(features), errorText, alertsAt()}
    this.key = '';
    this.abort = null;
  }

  async load(force = false) {
    const { api, i18n } = this.ctx;
    const at = this.ctx.alertsAt();
    const key = at || 'now';
    if (!force && key === this.key) return;
    this.key = key;
    if (this.abort) this.abort.abort();
    const abort = (this.abort = new AbortController());
    this.root.innerHTML = loadingHTML(i18n, i18n.t('alerts.title'));
    let items;
    try {
      const doc = await api.get('/api/v1/alerts', at ? { at } : null, { signal: abort.signal });
      items = listOf(doc, 'alerts', 'grids', 'items');
    } catch (err) {
      if (abort.signal.aborted) return;
      this.key = '';
      this.root.innerHTML = `<h2>${esc(i18n.t('alerts.title'))}</h2><p class="error">${esc(this.ctx.errorText(err))}</p>`;
      this.ctx.onAlerts([]);
      return;
    }
    // Significant alerts first, then by how far the count breaks its baseline.
    items = items.filter((a) => a.code || a.grid)
      .map((a) => ({ ...a, code: a.code || a.grid }))
      .filter((a) => a.significant !== false)
      .sort((a, b) => (a.q ?? a.p ?? 1) - (b.q ?? b.p ?? 1) || (b.observed - (b.expected || 0)) - (a.observed - (a.expected || 0)));
    const shown = items.slice(0, alertsShown);
    const feats = await Promise.all(shown.map((a) => this.ctx.gridFeature(a.code).catch(() => null)));
    if (abort.signal.aborted) return;
    this.ctx.onAlerts(feats.filter(Boolean));
    this.render(shown, feats, at);
  }

  render(items, feats, at) {
    const { i18n } = this.ctx;
    let h = `<h2>${esc(i18n.t('alerts.title'))} <span class="count">${items.length}</span></h2>`;
    if (at) h += `<p class="muted">${esc(i18n.t('alerts.at', { at: cityTime(at).slice(0, 10) }))}</p>`;
    if (!items.length) {
      this.root.innerHTML = h + `<p class="muted">${esc(i18n.t('alerts.empty'))}</p>`;
      return;
    }
    h += '<ul class="list">';
    items.forEach((a, i) => {
      const f = feats[i];
      const name = f ? f.properties.name : a.name || '';
      const ratio = a.expected > 0 ? a.observed / a.expected : null;
      h += `<li class="item alert-item" data-code="${esc(a.code)}" tabindex="0">
        <div class="item-top"><span class="name">${esc(name)}</span>${ratio ? `<span class="ratio">×${num(ratio, 1)}</span>` : ''}</div>
        <div class="item-meta"><code>${esc(a.code)}</code> · ${esc(i18n.t('alerts.observed', { o: num(a.observed), e: num(a.expected, 1) }))}${a.q !== undefined ? ` · q${fmtP(a.q)}` : ''}</div>
      </li>`;
    });
    this.root.innerHTML = h + '</ul>';
    for (const li of this.root.querySelectorAll('.alert-item')) {
      const pick = () => this.ctx.onPick(li.dataset.code);
      li.addEventListener('click', pick);
      li.addEventListener('keydown', (e) => e.key === 'Enter' && pick());
    }
  }
}

export class HotspotsPanel {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx; // {api, i18n, query(), onFly(bbox), errorText}
    this.key = '';
    this.abort = null;
  }

  async load(force = false) {
    const { api, i18n } = this.ctx;
    const q = this.ctx.query();
    const key = JSON.stringify(q);
    if (!force && key === this.key) return;
    this.key = key;
    if (this.abort) this.abort.abort();
    const abort = (this.abort = new AbortController());
    const signal = abort.signal;
    this.root.innerHTML = loadingHTML(i18n, i18n.t('hotspots.title'));
    let feats;
    let doc;
    try {
      doc = await api.get('/api/v1/hotspots', q, { signal });
      feats = featuresOf(doc, 'cells', 'hotspots');
    } catch (err) {
      if (signal.aborted) return;
      this.key = '';
      this.root.innerHTML = `<h2>${esc(i18n.t('hotspots.title'))}</h2><p class="error">${esc(this.ctx.errorText(err))}</p>`;
      return;
    }
    const bin = (f) => Number(f.properties.bin) || 0;
    const hot = feats.filter((f) => bin(f) > 0);
    const cold = feats.filter((f) => bin(f) < 0);
    const top = hot.sort((a, b) => (b.properties.z || 0) - (a.properties.z || 0)).slice(0, topCells);
    const names = await Promise.all(top.map((f) => {
      const [lon, lat] = labelPoint(f.geometry) || [0, 0];
      return placeName(api, lon, lat, signal);
    }));
    if (signal.aborted) return;
    const cell = doc.cell_m || q.cell_m || 250;
    let h = `<h2>${esc(i18n.t('hotspots.title'))}</h2>
      <p>${esc(i18n.t('hotspots.summary', { hot: num(hot.length), cold: num(cold.length), n: num(feats.length), cell: num(cell) }))}</p>`;
    if (!top.length) {
      this.root.innerHTML = h + `<p class="muted">${esc(i18n.t('hotspots.empty'))}</p>`;
      return;
    }
    const conf = { 3: '99%', 2: '95%', 1: '90%' };
    h += `<h3>${esc(i18n.t('hotspots.top'))}</h3><ul class="list">`;
    top.forEach((f, i) => {
      const p = f.properties;
      h += `<li class="item cell-item" data-i="${i}" tabindex="0">
        <div class="item-top"><span class="sw" style="background:${['', '#fab984', '#ed7551', '#d62f27'][bin(f)]}"></span><span class="name">${esc(names[i] || i18n.t('hotspots.cell') + ' ' + (i + 1))}</span><span class="ratio">${conf[bin(f)] || ''}</span></div>
        <div class="item-meta">${num(p.count)} ${esc(i18n.t('unit.pieces'))} · z=${num(p.z, 2)} · p${fmtP(p.p)}</div>
      </li>`;
    });
    this.root.innerHTML = h + '</ul>';
    for (const li of this.root.querySelectorAll('.cell-item')) {
      li.addEventListener('click', () => this.ctx.onFly(top[Number(li.dataset.i)].geometry));
    }
  }
}

// Emerging categories worth a command centre's attention, most urgent first.
const watchOrder = ['new_hot_spot', 'intensifying_hot_spot', 'persistent_hot_spot', 'consecutive_hot_spot', 'oscillating_hot_spot', 'sporadic_hot_spot'];

export class EmergingPanel {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx; // {api, i18n, query(), onData(fc, counts), onFly(geom), errorText}
    this.key = '';
    this.abort = null;
    this.data = null;
  }

  async load(force = false) {
    const { api, i18n } = this.ctx;
    const q = this.ctx.query();
    const key = JSON.stringify(q);
    if (!force && key === this.key) return;
    this.key = key;
    if (this.abort) this.abort.abort();
    const abort = (this.abort = new AbortController());
    const signal = abort.signal;
    this.root.innerHTML = loadingHTML(i18n, i18n.t('emerging.title'));
    let doc;
    try {
      doc = await api.get('/api/v1/emerging', q, { signal });
    } catch (err) {
      if (signal.aborted) return;
      this.key = '';
      this.root.innerHTML = `<h2>${esc(i18n.t('emerging.title'))}</h2><p class="error">${esc(this.ctx.errorText(err))}</p>`;
      this.ctx.onData(null, null);
      return;
    }
    const feats = featuresOf(doc, 'cells', 'emerging').map((f) => {
      const p = f.properties || {};
      const cat = typeof p.category === 'string' ? p.category : p.pattern || 'no_pattern';
      return { ...f, properties: { ...p, category: cat } };
    });
    const counts = {};
    for (const f of feats) counts[f.properties.category] = (counts[f.properties.category] || 0) + 1;
    this.ctx.onData({ type: 'FeatureCollection', features: feats }, counts);
    const trendZ = (f) => {
      const p = f.properties;
      return Number(p.trend_z ?? p.trend?.z ?? p.z ?? 0);
    };
    const watch = feats.filter((f) => watchOrder.includes(f.properties.category))
      .sort((a, b) => watchOrder.indexOf(a.properties.category) - watchOrder.indexOf(b.properties.category) || trendZ(b) - trendZ(a))
      .slice(0, topCells);
    const names = await Promise.all(watch.map((f) => {
      const [lon, lat] = labelPoint(f.geometry) || [0, 0];
      return placeName(api, lon, lat, signal);
    }));
    if (signal.aborted) return;
    let h = `<h2>${esc(i18n.t('emerging.title'))}</h2>
      <p>${esc(i18n.t('emerging.summary', { n: num(feats.length), step: i18n.step(q.step) }))}</p><div class="cat-counts">`;
    for (const c of watchOrder) {
      if (counts[c]) h += `<span class="cat-count"><span class="sw" style="background:${palette.emerging[c]}"></span>${esc(i18n.t('emcat.' + c))} <b>${counts[c]}</b></span>`;
    }
    h += '</div>';
    if (!watch.length) {
      this.root.innerHTML = h + `<p class="muted">${esc(i18n.t('emerging.empty'))}</p>`;
      return;
    }
    h += `<h3>${esc(i18n.t('emerging.top'))}</h3><ul class="list">`;
    watch.forEach((f, i) => {
      const p = f.properties;
      h += `<li class="item cell-item" data-i="${i}" tabindex="0">
        <div class="item-top"><span class="sw" style="background:${palette.emerging[p.category] || '#ccc'}"></span><span class="name">${esc(names[i] || i18n.t('hotspots.cell') + ' ' + (i + 1))}</span></div>
        <div class="item-meta">${esc(i18n.t('emcat.' + p.category))} · ${esc(i18n.t('emerging.trend', { z: num(trendZ(f), 2) }))}${(p.trend_p ?? p.p) !== undefined ? ' · p' + fmtP(p.trend_p ?? p.p) : ''}</div>
      </li>`;
    });
    this.root.innerHTML = h + '</ul>';
    for (const li of this.root.querySelectorAll('.cell-item')) {
      li.addEventListener('click', () => this.ctx.onFly(watch[Number(li.dataset.i)].geometry));
    }
  }
}
