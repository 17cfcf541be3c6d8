// The grid detail panel: the unit's place in the hierarchy, its
// accountability figures for the period, a trend sparkline and its open
// overdue cases.

import { esc, num, pct, cityTime, duration } from './format.js';
import { sparkline } from './sparkline.js';
import { cityDate, addDays, daysBetween, cityMidnight } from './state.js';

const openStatuses = ['reported', 'filed', 'dispatched', 'handled'];
const trendLimit = 5000;
const overduePerStatus = 500;
const overdueShown = 15;

export class DetailPanel {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx; // {api, i18n, catalogue, stats, period(), category(), onClose, onGeometry, errorText}
    this.code = '';
    this.abort = null;
    this.renderEmpty();
  }

  renderEmpty() {
    const { i18n } = this.ctx;
    this.root.innerHTML = `<p class="empty">${esc(i18n.t('detail.empty'))}</p>`;
  }

  clear() {
    this.code = '';
    if (this.abort) this.abort.abort();
    this.renderEmpty();
  }

  async show(code) {
    const { api, i18n } = this.ctx;
    this.code = code;
    if (this.abort) this.abort.abort();
    const abort = new AbortController();
    this.abort = abort;
    const signal = abort.signal;
    this.root.innerHTML = `<p class="empty">${esc(i18n.t('detail.loading'))}</p>`;
    let grid;
    try {
      grid = await api.get(`/api/v1/grids/${encodeURIComponent(code)}`, null, { signal });
    } catch (err) {
      if (signal.aborted) return;
      this.root.innerHTML = `<p class="error">${esc(this.ctx.errorText(err))}</p>`;
      return;
    }
    if (signal.aborted) return;
    this.ctx.onGeometry(grid);
    const p = grid.properties || {};
    const level = p.level || 'grid';
    this.root.innerHTML = this.header(p) +
      `<div class="block" id="detail-figures"><h3>${esc(i18n.t('detail.figures'))}</h3><p class="muted">${esc(i18n.t('detail.loading'))}</p></div>` +
      `<div class="block" id="detail-trend"><h3>${esc(i18n.t('detail.trend'))}</h3><p class="muted">${esc(i18n.t('detail.loading'))}</p></div>` +
      `<div class="block" id="detail-overdue"><h3>${esc(i18n.t('detail.overdue'))}</h3><p class="muted">${esc(i18n.t('detail.loading'))}</p></div>`;
    this.root.querySelector('.close').addEventListener('click', () => this.ctx.onClose());
    await Promise.all([
      this.figures(code, level, signal),
      this.trend(code, signal),
      this.overdue(code, signal),
    ]);
  }

  header(p) {
    const { i18n } = this.ctx;
    const anc = [...(p.ancestors || [])].sort((a, b) => String(a.code).length - String(b.code).length).map((a) => `<span title="${esc(a.code)}">${esc(a.name)}</span>`).join(' › ');
    return `<div class="detail-head">
      <button type="button" class="close" title="${esc(i18n.t('detail.close'))}">×</button>
      <div class="crumbs">${anc}</div>
      <h2>${esc(p.name || p.code)}</h2>
      <div class="ident"><span class="badge">${esc(i18n.t('level.' + (p.level || 'grid')))}</span> <code class="grid-code">${esc(p.code)}</code></div>
      ${p.department ? `<div class="muted">${esc(i18n.t('detail.department'))}: ${esc(p.department)}</div>` : ''}
    </div>`;
  }

  section(id) {
    return this.root.querySelector('#' + id);
  }

  async figures(code, level, signal) {
    const { i18n } = this.ctx;
    let f;
    try {
      const byCode = await this.ctx.stats(level, signal);
      f = byCode.get(code);
    } catch (err) {
      if (signal.aborted) return;
      this.section('detail-figures').innerHTML = `<h3>${esc(i18n.t('detail.figures'))}</h3><p class="error">${esc(i18n.t('detail.statsUnavailable', { msg: this.ctx.errorText(err) }))}</p>`;
      return;
    }
    if (signal.aborted) return;
    f = f || { due: 0, closed: 0, closed_on_time: 0, overdue_open: 0 };
    const cell = (label, value, cls = '') => `<div class="fig ${cls}"><div class="v">${value}</div><div class="k">${esc(label)}</div></div>`;
    const h = f.median_close_hours;
    this.section('detail-figures').innerHTML = `<h3>${esc(i18n.t('detail.figures'))}</h3><div class="figs">
      ${cell(i18n.t('detail.closedRate'), pct(f.closed_rate), 'big')}
      ${cell(i18n.t('detail.onTimeRate'), pct(f.on_time_rate), 'big')}
      ${cell(i18n.t('detail.overdueOpen'), num(f.overdue_open), f.overdue_open > 0 ? 'big warn' : 'big')}
      ${cell(i18n.t('detail.incidents'), num(f.reported))}
      ${cell(i18n.t('detail.due'), num(f.due))}
      ${cell(i18n.t('detail.closed'), num(f.closed))}
      ${cell(i18n.t('detail.closedOnTime'), num(f.closed_on_time))}
      ${cell(i18n.t('detail.reworkRate'), pct(f.rework_rate))}
      ${cell(i18n.t('detail.extensionRate'), pct(f.extension_rate))}
      ${cell(i18n.t('detail.medianClose'), h === null || h === undefined ? '–' : duration(h, i18n))}
    </div>`;
  }

  async trend(code, signal) {
    const { api, i18n } = this.ctx;
    const period = this.ctx.period();
    let doc;
    try {
      doc = await api.get('/api/v1/incidents', { grid: code, ...period.params, category: this.ctx.category(), limit: trendLimit }, { signal });
    } catch (err) {
      if (signal.aborted) return;
      this.section('detail-trend').innerHTML = `<h3>${esc(i18n.t('detail.trend'))}</h3><p class="error">${esc(this.ctx.errorText(err))}</p>`;
      return;
    }
    if (signal.aborted) return;
    const feats = doc.features || [];
    const times = feats.map((f) => Date.parse(f.properties.reported_at)).filter(Number.isFinite);
    let first = period.from;
    let last = period.to;
    if (!first || !last) {
      const lo = times.length ? Math.min(...times) : Date.now();
      const hi = times.length ? Math.max(...times) : Date.now();
      first = first || cityDate(lo);
      last = last || cityDate(hi);
    }
    const days = Math.max(1, daysBetween(first, last) + 1);
    const step = days > 62 ? 7 : 1;
    const buckets = new Array(Math.ceil(days / step)).fill(0);
    const t0 = cityMidnight(first);
    for (const t of times) {
      const i = Math.floor((t - t0) / 86400000 / step);
      if (i >= 0 && i < buckets.length) buckets[i]++;
    }
    const capped = doc.next_cursor ? i18n.t('detail.trendCapped', { n: num(trendLimit) }) : '';
    const stepName = i18n.step(step === 7 ? 'week' : 'day');
    this.section('detail-trend').innerHTML = `<h3>${esc(i18n.t('detail.trend'))} <span class="muted">${esc(i18n.t('detail.trendPer', { step: stepName }))}</span></h3>
      <div class="trend-total"><b>${num(times.length)}</b> ${esc(i18n.t('detail.incidents'))}${esc(capped)}</div>
      ${sparkline(buckets, { labels: [first, addDays(first, (buckets.length - 1) * step)] })}`;
  }

  async overdue(code, signal) {
    const { api, i18n } = this.ctx;
    const now = Date.now();
    let all = [];
    try {
      const pages = await Promise.all(openStatuses.map((status) =>
        api.get('/api/v1/incidents', { grid: code, status, limit: overduePerStatus }, { signal })));
      for (const d of pages) all.push(...(d.features || []));
    } catch (err) {
      if (signal.aborted) return;
      this.section('detail-overdue').innerHTML = `<h3>${esc(i18n.t('detail.overdue'))}</h3><p class="error">${esc(this.ctx.errorText(err))}</p>`;
      return;
    }
    if (signal.aborted) return;
    all = all.filter((f) => f.properties.deadline && Date.parse(f.properties.deadline) < now)
      .sort((a, b) => Date.parse(a.properties.deadline) - Date.parse(b.properties.deadline));
    const title = `<h3>${esc(i18n.t('detail.overdue'))} <span class="count">${num(all.length)}</span></h3>`;
    if (!all.length) {
      this.section('detail-overdue').innerHTML = title + `<p class="muted">${esc(i18n.t('detail.noOverdue'))}</p>`;
      return;
    }
    const items = all.slice(0, overdueShown).map((f) => {
      const p = f.properties;
      const late = (now - Date.parse(p.deadline)) / 3600000;
      return `<li class="case">
        <div class="case-top"><span class="st st-${esc(p.status)}">${esc(i18n.t('status.' + p.status))}</span>
          <span class="cat">${esc(this.ctx.categoryName(p.category, p.category_name))}</span>
          <span class="late">${esc(i18n.t('detail.overdueBy', { d: duration(late, i18n) }))}</span></div>
        <div class="case-meta">#${esc(p.id)} · ${esc(i18n.t('detail.reported'))} ${esc(cityTime(p.reported_at))} · ${esc(i18n.t('detail.deadline'))} ${esc(cityTime(p.deadline))}</div>
      </li>`;
    }).join('');
    const more = all.length > overdueShown ? `<p class="muted">${esc(i18n.t('detail.more', { n: num(all.length - overdueShown) }))}</p>` : '';
    this.section('detail-overdue').innerHTML = title + `<ul class="cases">${items}</ul>` + more;
  }
}
