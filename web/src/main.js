// The command-centre dashboard: a MapLibre map of gridd's tiles with the
// filters, legends and panels around it. Everything comes from the server
// that served this page.

import * as maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import './style.css';

import { Api, ApiError, listOf } from './api.js';
import { I18n } from './i18n.js';
import {
  parseHash, formatHash, periodParams, applyPreset, cityDate, addDays, daysBetween, layerNames,
} from './state.js';
import {
  buildStyle, tileQueries, tileURLs, layerGroups, levels, levelAtZoom, colourModes, fillColour,
  quantileBreaks, heatWeight,
} from './mapstyle.js';
import {
  gridsLegend, heatLegend, incidentsLegend, hotspotsLegend, emergingLegend, boundariesLegend, plannerLegend,
} from './legend.js';
import { Labels } from './labels.js';
import { DetailPanel } from './detail.js';
import { AlertsPanel, HotspotsPanel, EmergingPanel } from './lists.js';
import { Planner } from './planner.js';
import { esc, num, pct, cityTime, bboxOf } from './format.js';

// The worker is bundled as its own file next to this one (see build.mjs).
// eslint-disable-next-line no-undef
maplibregl.setWorkerUrl(new URL(__WORKER_FILE__, import.meta.url).href);

const $ = (id) => document.getElementById(id);
const refreshMs = 60000;
// Grid names are labelled from this zoom, fetched per viewport.
const gridLabelZoom = 14.6;

class App {
  constructor() {
    this.origin = window.location.origin;
    this.state = parseHash(window.location.hash);
    this.i18n = new I18n(this.state.lang);
    this.api = new Api(this.origin);
    this.api.onUnauthorized = () => this.askKey();
    this.catalogue = new Map();
    this.gridCache = new Map(); // code → Promise<feature>
    this.statsCache = new Map(); // period|level → Promise<Map code → figures>
    this.breaks = {}; // level → count breaks for the current filters
    this.breaksKey = {};
    this.breaksMin = {};
    this.heatTop = 0;
    this.heatKey = '';
    this.forbidden = new Set();
    this.dataPeriod = null; // {first, last} city dates of the incidents
    this.emergingCounts = null;
    this.ready = false;
    this.errors = [];
  }

  async start() {
    this.i18n.apply(document);
    this.bindControls();
    this.syncControls();
    this.renderStaticLegends();
    const [, period, tj] = await Promise.all([
      this.loadCatalogue(),
      this.findDataPeriod(),
      this.api.get('/tiles/grids.json').catch((err) => {
        this.fail('TileJSON', err);
        return null;
      }),
    ]);
    this.dataPeriod = period;
    if (this.state.preset !== 'custom') applyPreset(this.state, this.lastDay());
    this.syncControls();
    this.bounds = tj && Array.isArray(tj.bounds) && tj.bounds[0] > -180 ? tj.bounds : null;
    this.createMap();
    this.writeHash();
  }

  lastDay() {
    return this.dataPeriod ? this.dataPeriod.last : cityDate(Date.now());
  }

  // findDataPeriod finds the days the incidents span, so that "last 30
  // days" means the last 30 days with data: from the OGC collection's
  // temporal extent, else by bisecting on the incidents list.
  async findDataPeriod() {
    try {
      const c = await this.api.get('/ogc/collections/incidents');
      const iv = c && c.extent && c.extent.temporal && c.extent.temporal.interval && c.extent.temporal.interval[0];
      if (iv && iv[0] && iv[1]) return { first: cityDate(Date.parse(iv[0])), last: cityDate(Date.parse(iv[1])) };
    } catch {
      // Fall through to the probe.
    }
    try {
      const any = async (from) => {
        const d = await this.api.get('/api/v1/incidents', { from, limit: 1 });
        return d && d.features && d.features.length > 0;
      };
      let lo = cityDate(Date.now() - 3650 * 86400000); // has data (checked)
      let hi = addDays(cityDate(Date.now()), 2); // none after
      if (!(await any(lo))) return null;
      if (await any(hi)) return null;
      while (daysBetween(lo, hi) > 1) {
        const mid = addDays(lo, Math.floor(daysBetween(lo, hi) / 2));
        if (await any(mid)) lo = mid;
        else hi = mid;
      }
      return { first: '', last: lo };
    } catch {
      return null;
    }
  }

  async loadCatalogue() {
    let doc;
    try {
      doc = await this.api.get(new URL('assets/catalogue.json', document.baseURI).pathname);
    } catch (err) {
      this.fail('catalogue', err);
      return;
    }
    for (const c of doc.categories || []) this.catalogue.set(c.code, c);
    this.renderCategories();
  }

  renderCategories() {
    const sel = $('category');
    const zh = this.i18n.lang === 'zh';
    const groups = new Map();
    for (const c of this.catalogue.values()) {
      const g = c.code.slice(0, 3);
      if (!groups.has(g)) groups.set(g, { label: zh ? c.major : c.major_en, kind: c.kind, items: [] });
      groups.get(g).items.push(c);
    }
    let h = `<option value="">${esc(this.i18n.t('category.all'))}</option>`;
    for (const [code, g] of groups) {
      const kind = g.kind === 'component' ? (zh ? '部件' : 'Component') : (zh ? '事件' : 'Event');
      h += `<optgroup label="${esc(`${kind} · ${g.label} (${code})`)}">`;
      for (const c of g.items) h += `<option value="${esc(c.code)}">${esc(zh ? c.minor : c.minor_en)} (${esc(c.code)})</option>`;
      h += '</optgroup>';
    }
    sel.innerHTML = h;
    sel.value = this.state.category;
  }

  categoryName(code, fallback) {
    const c = this.catalogue.get(code);
    if (!c) return fallback || code;
    return this.i18n.lang === 'zh' ? `${c.major}/${c.minor}` : `${c.major_en} / ${c.minor_en}`;
  }

  // --- the map -------------------------------------------------------------

  period() {
    return { params: periodParams(this.state), from: this.state.from, to: this.state.to };
  }

  queries() {
    return tileQueries(periodParams(this.state), this.state.category);
  }

  createMap() {
    const s = this.state;
    const opts = {
      container: 'map',
      style: buildStyle(this.origin, this.queries(), this.bounds),
      attributionControl: false,
      maxZoom: 19,
      transformRequest: this.api.transformRequest(),
      dragRotate: false,
      pitchWithRotate: false,
      canvasContextAttributes: { antialias: true },
    };
    if (s.view) {
      opts.center = [s.view.lon, s.view.lat];
      opts.zoom = s.view.zoom;
    } else if (this.bounds) {
      opts.bounds = this.bounds;
      opts.fitBoundsOptions = { padding: 24 };
    } else {
      opts.center = [116.4, 39.91];
      opts.zoom = 11;
    }
    const map = new maplibregl.Map(opts);
    this.map = map;
    map.touchZoomRotate.disableRotation();
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-right');
    this.labels = new Labels(map, $('labels'));
    this.hover = document.createElement('div');
    this.hover.className = 'hover';
    this.hover.hidden = true;
    $('map-wrap').appendChild(this.hover);

    map.on('error', (e) => this.mapError(e));
    map.on('load', () => this.onMapLoad());
    map.on('moveend', () => {
      this.saveView();
      this.loadGridLabels();
    });
    map.on('zoomend', () => this.onLevelChange());
    map.on('idle', () => this.onIdle());
    map.on('dataloading', () => this.setStatus(this.i18n.t('status.loading')));
    map.on('click', (e) => this.onClick(e));
    map.on('mousemove', (e) => this.onHover(e));
    map.on('mouseout', () => {
      this.hover.hidden = true;
    });
  }

  onMapLoad() {
    this.makePanels();
    this.applyLayers();
    this.applyColours();
    this.loadLabels();
    if (this.state.grid && this.state.mode === 'monitor') this.detail.show(this.state.grid);
    this.showTab(this.state.tab);
    this.applyMode();
    this.timer = setInterval(() => this.refresh(), refreshMs);
  }

  makePanels() {
    const common = {
      api: this.api,
      i18n: this.i18n,
      errorText: (err) => this.errorText(err),
    };
    this.detail = new DetailPanel($('tab-detail'), {
      ...common,
      stats: (level, signal) => this.stats(level, signal),
      period: () => this.period(),
      category: () => this.state.category,
      categoryName: (code, fallback) => this.categoryName(code, fallback),
      onClose: () => this.select(''),
      onGeometry: (f) => this.map.getSource('selection').setData(f.geometry ? { type: 'Feature', geometry: f.geometry, properties: {} } : emptyFC()),
    });
    this.alerts = new AlertsPanel($('tab-alerts'), {
      ...common,
      alertsAt: () => this.alertsAt(),
      gridFeature: (code) => this.gridFeature(code),
      onPick: (code) => this.select(code, true),
      onAlerts: (feats) => this.map.getSource('alerts').setData({ type: 'FeatureCollection', features: feats }),
    });
    this.hotspots = new HotspotsPanel($('tab-hotspots'), {
      ...common,
      query: () => ({ ...periodParams(this.state), category: this.state.category || undefined }),
      onFly: (geom) => this.fit(bboxOf(geom), 16),
    });
    this.emerging = new EmergingPanel($('tab-emerging'), {
      ...common,
      query: () => this.emergingQuery(),
      onFly: (geom) => this.fit(bboxOf(geom), 16),
      onData: (fc, counts) => {
        this.map.getSource('emerging').setData(fc || emptyFC());
        this.emergingCounts = counts;
        $('legend-emerging').innerHTML = emergingLegend(counts, this.i18n);
      },
    });
    this.planner = new Planner($('tab-planner'), { set: $('planner-set'), base: $('planner-base') }, {
      ...common,
      setData: (src, fc) => this.map.getSource(src).setData(fc),
      fit: (b, maxZoom, padding) => this.fit(b, maxZoom, padding),
    });
  }

  // emergingQuery spans the period (the data's whole span for "all") in
  // weekly slices, or daily ones for short periods.
  emergingQuery() {
    const p = periodParams(this.state);
    if (!p.from && this.dataPeriod && this.dataPeriod.first) p.from = this.dataPeriod.first;
    if (!p.to && this.dataPeriod) p.to = addDays(this.dataPeriod.last, 1);
    const days = p.from && p.to ? daysBetween(p.from, p.to) : 365;
    return { ...p, step: days >= 56 ? 'week' : 'day' };
  }

  alertsAt() {
    if (this.state.to) return addDays(this.state.to, 1);
    if (this.dataPeriod) return addDays(this.dataPeriod.last, 1);
    return '';
  }

  fit(b, maxZoom = 15, padding = 60) {
    if (!b || !Number.isFinite(b[0])) return;
    this.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding, maxZoom, duration: 600 });
  }

  gridFeature(code) {
    if (!this.gridCache.has(code)) {
      const p = this.api.get(`/api/v1/grids/${encodeURIComponent(code)}`);
      p.catch(() => this.gridCache.delete(code));
      this.gridCache.set(code, p);
    }
    return this.gridCache.get(code);
  }

  // stats returns a level's accountability figures for the period, by code.
  stats(level, signal) {
    const p = periodParams(this.state);
    const key = `${p.from || ''}|${p.to || ''}|${level}`;
    if (!this.statsCache.has(key)) {
      const req = this.api.get('/api/v1/stats/grids', { ...p, level }).then((doc) => {
        const m = new Map();
        for (const f of listOf(doc, 'units', 'grids', 'figures')) m.set(f.code, f);
        return m;
      });
      req.catch(() => this.statsCache.delete(key));
      this.statsCache.set(key, req);
    }
    const req = this.statsCache.get(key);
    if (!signal) return req;
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      req.then(resolve, reject);
    });
  }

  // --- layers and colours -------------------------------------------------

  applyLayers() {
    const map = this.map;
    const s = this.state;
    const monitor = s.mode === 'monitor';
    const vis = (ids, on) => {
      for (const id of ids) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
    };
    for (const name of ['grids', 'heat', 'incidents', 'hotspots', 'emerging']) {
      vis(layerGroups[name], monitor && s.layers.has(name) && !this.forbidden.has(name));
    }
    vis(layerGroups.boundaries, monitor);
    vis(['selection-line', 'selection-line-inner'], monitor);
    vis(layerGroups.planner, !monitor && $('planner-show-diff').checked);
    vis(['plan-draft-line'], !monitor);
    vis(layerGroups.problems, !monitor && $('planner-show-problems').checked);
    this.labels.setEnabled(s.layers.has('labels'));
    // The choropleth is dimmed under the analysis layers so both read.
    const analysis = ['heat', 'hotspots', 'emerging'].some((l) => s.layers.has(l));
    for (const l of levels) map.setPaintProperty(`grids-fill-${l}`, 'fill-opacity', analysis ? 0.35 : 0.8);
    if (monitor && s.layers.has('emerging')) this.emerging.load();
    for (const name of layerNames) {
      const box = $('layer-' + name);
      if (box) box.closest('.layer').classList.toggle('off', !box.checked);
    }
  }

  filterKey() {
    const p = periodParams(this.state);
    return `${p.from || ''}|${p.to || ''}|${this.state.category}|${this.state.colour}`;
  }

  // applyColours sets each level's fill colours for the colour mode from
  // the breaks known so far, and loads what the mode needs.
  applyColours() {
    const mode = this.state.colour;
    const m = colourModes[mode];
    for (const l of levels) {
      let br = this.breaksKey[l] === this.filterKey() ? this.breaks[l] : null;
      if (!br) br = Array.isArray(m.breaks) ? m.breaks : [];
      this.map.setPaintProperty(`grids-fill-${l}`, 'fill-color', fillColour(mode, br));
    }
    if (m.source === 'stats') this.loadStatsColours(levelAtZoom(this.map.getZoom()));
    this.renderGridsLegend();
  }

  async loadStatsColours(level) {
    const mode = this.state.colour;
    const m = colourModes[mode];
    const key = this.filterKey();
    let byCode;
    try {
      byCode = await this.stats(level);
    } catch (err) {
      $('legend-grids').innerHTML = `<p class="error">${esc(this.errorText(err))}</p>`;
      return;
    }
    if (key !== this.filterKey()) return;
    const src = { source: 'grids', sourceLayer: 'grids' };
    const values = [];
    for (const [code, f] of byCode) {
      const v = f[m.field];
      if (v === null || v === undefined) this.map.removeFeatureState({ ...src, id: code }, 'v');
      else {
        this.map.setFeatureState({ ...src, id: code }, { v });
        values.push(v);
      }
    }
    const br = Array.isArray(m.breaks) ? m.breaks : quantileBreaks(values);
    this.breaks[level] = br;
    this.breaksMin[level] = minPositive(values);
    this.breaksKey[level] = key;
    this.map.setPaintProperty(`grids-fill-${level}`, 'fill-color', fillColour(mode, br));
    this.renderGridsLegend();
  }

  // countBreaks classes the incident counts of the level on screen.
  countBreaks(level) {
    const feats = this.map.querySourceFeatures('grids', { sourceLayer: 'grids', filter: ['==', ['get', 'level'], level] });
    if (!feats.length) return;
    const byCode = new Map();
    for (const f of feats) byCode.set(f.properties.code, Number(f.properties.count) || 0);
    const br = quantileBreaks([...byCode.values()]);
    this.breaks[level] = br;
    this.breaksMin[level] = minPositive([...byCode.values()]);
    this.breaksKey[level] = this.filterKey();
    this.map.setPaintProperty(`grids-fill-${level}`, 'fill-color', fillColour('count', br));
    this.renderGridsLegend();
  }

  // heatScale sets the density at which the heat peaks: the 95th
  // percentile of the cells loaded, so that the scale follows the period.
  heatScale() {
    // Cells are finer at each zoom, so their densities peak higher.
    const key = this.filterKey() + '|' + Math.floor(this.map.getZoom());
    if (this.heatKey === key) return;
    const feats = this.map.querySourceFeatures('heat', { sourceLayer: 'heat' });
    if (!feats.length) return;
    const d = feats.map((f) => Number(f.properties.density) || 0).sort((a, b) => a - b);
    const top = d[Math.floor(d.length * 0.95)] || d[d.length - 1];
    this.heatTop = top;
    this.heatKey = key;
    this.map.setPaintProperty('heat', 'heatmap-weight', heatWeight(top));
    $('legend-heat').innerHTML = heatLegend(top, this.i18n);
  }

  onLevelChange() {
    const level = levelAtZoom(this.map.getZoom());
    if (level !== this.shownLevel) {
      this.shownLevel = level;
      if (colourModes[this.state.colour].source === 'stats' && this.breaksKey[level] !== this.filterKey()) this.loadStatsColours(level);
      this.renderGridsLegend();
    }
  }

  onIdle() {
    const level = levelAtZoom(this.map.getZoom());
    if (this.state.colour === 'count' && this.breaksKey[level] !== this.filterKey()) this.countBreaks(level);
    if (this.state.layers.has('heat')) this.heatScale();
    this.setStatus(this.i18n.t('status.updated', { t: new Date().toTimeString().slice(0, 5) }));
    if (!this.ready) {
      this.ready = true;
      document.body.dataset.ready = 'true';
    }
  }

  renderGridsLegend() {
    const level = levelAtZoom(this.map ? this.map.getZoom() : 12);
    const mode = this.state.colour;
    const m = colourModes[mode];
    const br = this.breaksKey[level] === this.filterKey() ? this.breaks[level] : Array.isArray(m.breaks) ? m.breaks : null;
    $('legend-grids').innerHTML = br ? gridsLegend(mode, br, level, this.i18n, this.breaksMin[level]) : `<p class="muted">${esc(this.i18n.t('status.loading'))}</p>`;
  }

  renderStaticLegends() {
    $('legend-heat').innerHTML = heatLegend(this.heatTop, this.i18n);
    $('legend-incidents').innerHTML = incidentsLegend(this.i18n);
    $('legend-hotspots').innerHTML = hotspotsLegend(this.i18n);
    $('legend-emerging').innerHTML = emergingLegend(this.emergingCounts, this.i18n);
    $('legend-boundaries').innerHTML = boundariesLegend(this.i18n);
    $('legend-planner').innerHTML = plannerLegend(this.i18n);
    for (const name of this.forbidden) this.markForbidden(name);
  }

  // --- labels ---------------------------------------------------------------

  async loadLabels() {
    for (const level of ['district', 'street', 'community']) {
      try {
        const fc = await this.api.get('/api/v1/grids', { level });
        this.labels.set(level, fc.features || []);
      } catch (err) {
        this.fail('labels', err);
        return;
      }
    }
    this.loadGridLabels();
  }

  async loadGridLabels() {
    if (!this.labels || this.map.getZoom() < gridLabelZoom || !this.state.layers.has('labels')) return;
    const b = this.map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(',');
    try {
      const fc = await this.api.get('/api/v1/grids', { level: 'grid', bbox });
      this.labels.add('grid', fc.features || []);
    } catch (err) {
      this.fail('labels', err);
    }
  }

  // --- interaction ----------------------------------------------------------

  fillLayerAt(point) {
    const level = levelAtZoom(this.map.getZoom());
    const id = `grids-fill-${level}`;
    if (this.map.getLayoutProperty(id, 'visibility') === 'none') {
      // With the fill hidden the boundaries still pick a unit.
      const feats = this.map.queryRenderedFeatures([[point.x - 3, point.y - 3], [point.x + 3, point.y + 3]], { layers: [`grids-line-${level}`] });
      return feats[0] || null;
    }
    return this.map.queryRenderedFeatures(point, { layers: [id] })[0] || null;
  }

  onClick(e) {
    if (this.state.mode !== 'monitor') return;
    const inc = this.map.queryRenderedFeatures(e.point, { layers: ['incidents-points'].filter((l) => this.map.getLayoutProperty(l, 'visibility') !== 'none') })[0];
    if (inc) {
      this.incidentPopup(inc, e.lngLat);
      return;
    }
    const f = this.fillLayerAt(e.point);
    if (f) this.select(f.properties.code);
  }

  async incidentPopup(f, at) {
    const p = f.properties;
    const popup = new maplibregl.Popup({ closeButton: true, maxWidth: '300px' }).setLngLat(at)
      .setHTML(`<b>#${esc(p.id)}</b> ${esc(this.categoryName(p.category))}<br>${esc(this.i18n.t('status.' + p.status))} · <code>${esc(p.grid)}</code>`)
      .addTo(this.map);
    try {
      const d = await this.api.get(`/api/v1/incidents/${p.id}`);
      const q = d.properties;
      popup.setHTML(`<b>#${esc(q.id)}</b> ${esc(this.categoryName(q.category, q.category_name))}<br>
        ${esc(this.i18n.t('status.' + q.status))} · ${esc(this.i18n.t('detail.reported'))} ${esc(cityTime(q.reported_at))}<br>
        ${q.deadline ? esc(this.i18n.t('detail.deadline')) + ' ' + esc(cityTime(q.deadline)) + '<br>' : ''}
        ${q.description ? esc(q.description) + '<br>' : ''}<code>${esc(q.grid_code)}</code>`);
    } catch {
      // The tile's attributes already say what matters.
    }
  }

  onHover(e) {
    if (this.state.mode !== 'monitor') return;
    const f = this.fillLayerAt(e.point);
    this.map.getCanvas().style.cursor = f ? 'pointer' : '';
    if (!f) {
      this.hover.hidden = true;
      return;
    }
    const p = f.properties;
    const mode = this.state.colour;
    let value;
    if (mode === 'count') value = `${this.i18n.t('colour.count')}: ${num(p.count || 0)}`;
    else {
      const st = this.map.getFeatureState({ source: 'grids', sourceLayer: 'grids', id: p.code });
      const v = st ? st.v : undefined;
      const fmt = colourModes[mode].rate ? pct(v) : num(v, 1);
      value = `${this.i18n.t('colour.' + mode)}: ${v === undefined ? this.i18n.t('legend.noData') : fmt}`;
    }
    this.hover.innerHTML = `<b>${esc(p.name)}</b><br><code>${esc(p.code)}</code><br>${esc(value)}`;
    this.hover.hidden = false;
    const W = this.map.getContainer().clientWidth;
    const x = e.point.x + 14 + this.hover.offsetWidth > W ? e.point.x - 14 - this.hover.offsetWidth : e.point.x + 14;
    this.hover.style.transform = `translate(${x}px, ${e.point.y + 14}px)`;
  }

  select(code, fly = false) {
    this.state.grid = code;
    this.writeHash();
    if (!code) {
      this.detail.clear();
      this.map.getSource('selection').setData(emptyFC());
      return;
    }
    this.showTab('detail');
    this.detail.show(code);
    if (fly) {
      this.gridFeature(code).then((f) => this.fit(bboxOf(f.geometry), 16)).catch(() => {});
    }
  }

  showTab(tab) {
    this.state.tab = tab;
    for (const b of document.querySelectorAll('#monitor-tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
    for (const t of ['detail', 'alerts', 'hotspots', 'emerging']) $('tab-' + t).hidden = this.state.mode !== 'monitor' || t !== tab;
    if (this.state.mode === 'monitor') {
      if (tab === 'alerts') this.alerts.load();
      if (tab === 'hotspots') this.hotspots.load();
      if (tab === 'emerging') this.emerging.load();
    }
    this.writeHash();
  }

  async applyMode() {
    const planner = this.state.mode === 'planner';
    $('mode-monitor').setAttribute('aria-selected', String(!planner));
    $('mode-planner').setAttribute('aria-selected', String(planner));
    $('layers-panel').hidden = planner;
    $('planner-controls').hidden = !planner;
    $('monitor-tabs').hidden = planner;
    $('tab-planner').hidden = !planner;
    document.body.classList.toggle('planner', planner);
    this.showTab(this.state.tab);
    this.applyLayers();
    if (planner) {
      const pick = await this.planner.loadSets(this.state.set, this.state.base);
      if (pick && this.state.mode === 'planner') {
        this.state.set = pick.set;
        this.state.base = pick.base;
        this.writeHash();
        await this.planner.show(pick.set, pick.base, this.state.from);
      }
    } else {
      this.planner.clearMap();
      this.alerts.load();
    }
  }

  // --- controls -------------------------------------------------------------

  bindControls() {
    $('period-preset').addEventListener('change', (e) => {
      this.state.preset = e.target.value;
      if (this.state.preset !== 'custom') applyPreset(this.state, this.lastDay());
      this.syncControls();
      this.filtersChanged();
    });
    for (const id of ['period-from', 'period-to']) {
      $(id).addEventListener('change', () => {
        let from = $('period-from').value;
        let to = $('period-to').value;
        if (from && to && to < from) [from, to] = [to, from];
        Object.assign(this.state, { preset: 'custom', from, to });
        this.syncControls();
        this.filtersChanged();
      });
    }
    $('category').addEventListener('change', (e) => {
      this.state.category = e.target.value;
      this.filtersChanged();
    });
    $('colour-by').addEventListener('change', (e) => {
      this.state.colour = e.target.value;
      this.writeHash();
      if (this.map) this.applyColours();
    });
    for (const name of layerNames) {
      $('layer-' + name).addEventListener('change', (e) => {
        if (e.target.checked) this.state.layers.add(name);
        else this.state.layers.delete(name);
        this.writeHash();
        if (this.map) {
          this.applyLayers();
          if (name === 'labels') this.loadGridLabels();
        }
      });
    }
    $('lang').addEventListener('click', () => this.setLang(this.i18n.lang === 'zh' ? 'en' : 'zh'));
    $('key').addEventListener('click', () => this.askKey());
    $('key-dialog').addEventListener('close', () => {
      const v = $('key-dialog').returnValue;
      if (v === 'save') this.api.setKey($('key-input').value.trim());
      if (v === 'clear') this.api.setKey('');
      if (v === 'save' || v === 'clear') window.location.reload();
    });
    for (const b of document.querySelectorAll('#monitor-tabs button')) b.addEventListener('click', () => this.showTab(b.dataset.tab));
    $('mode-monitor').addEventListener('click', () => this.setMode('monitor'));
    $('mode-planner').addEventListener('click', () => this.setMode('planner'));
    $('planner-set').addEventListener('change', (e) => {
      this.state.set = e.target.value;
      this.writeHash();
      this.planner.show(this.state.set, this.state.base, this.state.from);
    });
    $('planner-base').addEventListener('change', (e) => {
      this.state.base = e.target.value;
      this.writeHash();
      this.planner.show(this.state.set, this.state.base, this.state.from);
    });
    for (const id of ['planner-show-problems', 'planner-show-diff']) $(id).addEventListener('change', () => this.applyLayers());
    window.addEventListener('hashchange', () => {
      if (window.location.hash !== this.lastHash) this.fromHash();
    });
  }

  syncControls() {
    const s = this.state;
    $('period-preset').value = s.preset;
    $('period-from').value = s.from;
    $('period-to').value = s.to;
    $('category').value = s.category;
    $('colour-by').value = s.colour;
    for (const name of layerNames) $('layer-' + name).checked = s.layers.has(name);
    $('lang').textContent = this.i18n.lang === 'zh' ? 'EN' : '中文';
  }

  // filtersChanged reloads everything the period and category decide.
  filtersChanged() {
    this.writeHash();
    if (!this.map) return;
    const urls = tileURLs(this.origin, this.queries());
    for (const [id, url] of Object.entries(urls)) this.map.getSource(id).setTiles([url]);
    this.map.removeFeatureState({ source: 'grids', sourceLayer: 'grids' });
    this.applyColours();
    if (this.state.grid) this.detail.show(this.state.grid);
    this.alerts.key = '';
    this.hotspots.key = '';
    this.emerging.key = '';
    this.showTab(this.state.tab);
    if (this.state.layers.has('emerging')) this.emerging.load();
    if (this.state.mode === 'planner' && this.state.set) this.planner.show(this.state.set, this.state.base, this.state.from);
  }

  refresh() {
    if (document.hidden || this.state.mode !== 'monitor') return;
    const urls = tileURLs(this.origin, this.queries());
    for (const [id, url] of Object.entries(urls)) this.map.getSource(id).setTiles([url]);
    this.statsCache.clear();
    this.breaksKey = {};
    this.heatKey = '';
    if (colourModes[this.state.colour].source === 'stats') this.loadStatsColours(levelAtZoom(this.map.getZoom()));
    if (this.state.tab === 'alerts') this.alerts.load(true);
  }

  setLang(lang) {
    this.state.lang = lang;
    this.i18n = new I18n(lang);
    for (const p of [this.detail, this.alerts, this.hotspots, this.emerging, this.planner]) if (p) p.ctx.i18n = this.i18n;
    this.i18n.apply(document);
    this.renderCategories();
    this.syncControls();
    this.renderStaticLegends();
    if (this.map) this.renderGridsLegend();
    this.writeHash();
    if (!this.detail) return;
    if (this.state.grid) this.detail.show(this.state.grid);
    else this.detail.renderEmpty();
    for (const p of [this.alerts, this.hotspots, this.emerging]) p.key = '';
    this.showTab(this.state.tab);
    if (this.state.mode === 'planner') {
      this.planner.shownKey = '';
      this.applyMode();
    }
  }

  setMode(mode) {
    if (this.state.mode === mode) return;
    this.state.mode = mode;
    this.writeHash();
    this.applyMode();
  }

  fromHash() {
    const before = this.state;
    this.state = parseHash(window.location.hash, before);
    if (this.state.lang !== this.i18n.lang) this.setLang(this.state.lang);
    this.syncControls();
    if (this.state.view && this.map) this.map.jumpTo({ center: [this.state.view.lon, this.state.view.lat], zoom: this.state.view.zoom });
    if (this.map) {
      this.filtersChanged();
      this.applyLayers();
      if (this.state.mode !== before.mode) this.applyMode();
    }
  }

  saveView() {
    const c = this.map.getCenter();
    this.state.view = { zoom: this.map.getZoom(), lat: c.lat, lon: c.lng };
    this.writeHash();
  }

  writeHash() {
    const h = formatHash(this.state);
    if (h !== window.location.hash) {
      this.lastHash = h;
      window.history.replaceState(null, '', h);
    }
  }

  // --- keys and errors --------------------------------------------------------

  askKey() {
    const d = $('key-dialog');
    if (d.open) return;
    $('key-input').value = this.api.key;
    d.showModal();
  }

  errorText(err) {
    if (err instanceof ApiError) {
      if (err.status === 403) return this.i18n.t('err.forbiddenPlain') + (err.message ? ': ' + err.message : '');
      return this.i18n.t('err.load', { msg: `${err.status} ${err.message}` });
    }
    return this.i18n.t('err.load', { msg: err && err.message ? err.message : String(err) });
  }

  mapError(e) {
    const err = e.error || {};
    const status = err.status;
    const name = Object.keys(layerGroups).find((n) => n === e.sourceId);
    if (status === 403 && name) {
      // Viewers may not see single incidents: that layer is switched off.
      this.forbidden.add(name);
      this.markForbidden(name);
      this.applyLayers();
      return;
    }
    this.fail(`map ${e.sourceId || ''}`, err);
  }

  markForbidden(name) {
    const box = $('layer-' + name);
    if (!box) return;
    box.disabled = true;
    box.closest('.layer').classList.add('forbidden');
    $('legend-' + name).innerHTML = `<p class="muted">${esc(this.i18n.t('err.forbiddenPlain'))}</p>`;
  }

  // fail reports an unexpected failure where people and tests see it.
  fail(what, err) {
    const msg = `${what}: ${err && err.message ? err.message : String(err)}`;
    this.errors.push(msg);
    console.error('gridd dashboard:', msg);
    this.setStatus('⚠ ' + msg);
  }

  setStatus(text) {
    const el = $('status');
    el.textContent = text;
    el.title = text;
    el.classList.toggle('warn', text.startsWith('⚠'));
  }
}

function minPositive(values) {
  let m = Infinity;
  for (const v of values) if (v > 0 && v < m) m = v;
  return m;
}

function emptyFC() {
  return { type: 'FeatureCollection', features: [] };
}

const app = new App();
// Exposed for the browser test and for poking at the map from the console.
window.gridd = app;
app.start().catch((err) => app.fail('start', err));
