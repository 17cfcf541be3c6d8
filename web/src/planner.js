// The planner view: a grid set (usually a draft) on the map with its gaps
// and overlaps, and what changes against a base set — grids added,
// removed or reshaped, incidents that change grid, workload before and
// after.

import { listOf, featuresOf } from './api.js';
import { esc, num, area, bboxOf } from './format.js';
import { labelPoint } from './labels.js';

const problemsShown = 40;
const transfersShown = 10;

const emptyFC = () => ({ type: 'FeatureCollection', features: [] });

// problemsGeoJSON turns a validation answer into features: the problem
// area where there is one, else its place.
export function problemsGeoJSON(report) {
  if (report && report.type === 'FeatureCollection') return report;
  const fc = emptyFC();
  for (const p of (report && report.problems) || []) {
    const props = { kind: p.kind, severity: p.severity, grids: p.grids || [], area_m2: p.area_m2 || 0, message: p.message || '' };
    let geometry = p.geometry || null;
    if (!geometry && Array.isArray(p.place)) geometry = { type: 'Point', coordinates: p.place };
    if (geometry) fc.features.push({ type: 'Feature', geometry, properties: props });
  }
  return fc;
}

export class Planner {
  constructor(root, controls, ctx) {
    this.root = root;
    this.controls = controls; // {set, base} <select>s
    this.ctx = ctx; // {api, i18n, map, setData(source, fc), fit(bbox), onSelect(set, base), errorText}
    this.sets = [];
    this.abort = null;
    this.problems = [];
    this.shownKey = '';
  }

  async loadSets(wantSet, wantBase) {
    const { api, i18n } = this.ctx;
    let doc;
    try {
      doc = await api.get('/api/v1/gridsets');
    } catch (err) {
      this.root.innerHTML = `<h2>${esc(i18n.t('planner.title'))}</h2><p class="error">${esc(this.ctx.errorText(err))}</p>`;
      return null;
    }
    this.sets = listOf(doc, 'gridsets', 'sets', 'items').map((s) => ({ ...s, id: String(s.id) }));
    // Drafts first (newest first), then published sets.
    this.sets.sort((a, b) => (a.status === 'draft' ? 0 : 1) - (b.status === 'draft' ? 0 : 1) || Number(b.id) - Number(a.id));
    const label = (s) => `#${s.id} ${s.name || ''} · ${i18n.t('planner.status.' + s.status) || s.status}${s.effective_from ? ' ' + String(s.effective_from).slice(0, 10) : ''}`;
    this.controls.set.innerHTML = this.sets.map((s) => `<option value="${esc(s.id)}">${esc(label(s))}</option>`).join('');
    const published = this.sets.filter((s) => s.status === 'published');
    this.controls.base.innerHTML = `<option value="">${esc(i18n.t('planner.baseNone'))}</option>` +
      published.map((s) => `<option value="${esc(s.id)}">${esc(label(s))}</option>`).join('');
    if (!this.sets.length) {
      this.root.innerHTML = `<h2>${esc(i18n.t('planner.title'))}</h2><p class="muted">${esc(i18n.t('planner.none'))}</p>`;
      return null;
    }
    const set = this.sets.find((s) => s.id === wantSet) || this.sets[0];
    // The base defaults to the set in force: published and not yet ended.
    const inForce = published.find((s) => s.in_force) ||
      published.filter((s) => !s.effective_to).sort((a, b) => String(b.effective_from).localeCompare(String(a.effective_from)))[0];
    let base = published.find((s) => s.id === wantBase) || (inForce && inForce.id !== set.id ? inForce : null);
    this.controls.set.value = set.id;
    this.controls.base.value = base ? base.id : '';
    return { set: set.id, base: base ? base.id : '' };
  }

  clearMap() {
    for (const s of ['plan-draft', 'plan-base', 'plan-problems', 'plan-problem-points']) this.ctx.setData(s, emptyFC());
    this.shownKey = '';
  }

  // show draws set setId and its problems, and its diff against baseId.
  // since (a city date) limits the incidents the diff moves; empty: all.
  async show(setId, baseId, since = '') {
    const { api, i18n } = this.ctx;
    const key = setId + '|' + baseId + '|' + since;
    if (key === this.shownKey) return;
    this.shownKey = key;
    if (this.abort) this.abort.abort();
    const abort = (this.abort = new AbortController());
    const signal = abort.signal;
    this.root.innerHTML = `<h2>${esc(i18n.t('planner.title'))}</h2><p class="muted">${esc(i18n.t('detail.loading'))}</p>`;
    let setDoc, report, diff = null, baseDoc = null;
    try {
      [setDoc, report, diff, baseDoc] = await Promise.all([
        api.get(`/api/v1/gridsets/${setId}`, null, { signal }),
        api.get(`/api/v1/gridsets/${setId}/validation`, null, { signal }),
        baseId && baseId !== setId ? api.get(`/api/v1/gridsets/${setId}/diff`, { base: baseId, ...(since ? { since } : { days: 0 }), ids: 0 }, { signal }) : null,
        baseId && baseId !== setId ? api.get(`/api/v1/gridsets/${baseId}`, null, { signal }) : null,
      ]);
    } catch (err) {
      if (signal.aborted) return;
      this.shownKey = '';
      this.root.innerHTML = `<h2>${esc(i18n.t('planner.title'))}</h2><p class="error">${esc(this.ctx.errorText(err))}</p>`;
      return;
    }
    let problems = problemsGeoJSON(report);
    if (!problems.features.length && report && (report.problems || []).length) {
      // The JSON report came without areas: ask for the GeoJSON form.
      try {
        problems = problemsGeoJSON(await api.get(`/api/v1/gridsets/${setId}/validation`, { format: 'geojson' }, { signal }));
      } catch {
        // The list below still names every problem.
      }
    }
    if (signal.aborted) return;

    const changes = new Map();
    for (const g of (diff && diff.grids) || []) changes.set(g.code, g.change);
    const draft = featuresOf(setDoc, 'grids', 'features').map((f) => {
      const c = changes.get(f.properties.code);
      return c === 'added' || c === 'reshaped' ? { ...f, properties: { ...f.properties, _change: c } } : f;
    });
    const base = featuresOf(baseDoc, 'grids', 'features')
      .filter((f) => changes.get(f.properties.code) === 'removed')
      .map((f) => ({ ...f, properties: { ...f.properties, _change: 'removed' } }));
    this.ctx.setData('plan-draft', { type: 'FeatureCollection', features: draft });
    this.ctx.setData('plan-base', { type: 'FeatureCollection', features: base });
    this.ctx.setData('plan-problems', problems);
    this.ctx.setData('plan-problem-points', {
      type: 'FeatureCollection',
      features: problems.features.map((f) => {
        const at = labelPoint(f.geometry);
        return at ? { type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: f.properties } : null;
      }).filter(Boolean),
    });
    if (draft.length) this.ctx.fit(bboxOf({ type: 'GeometryCollection', geometries: draft.map((f) => f.geometry) }));
    this.problems = problems.features;
    this.render(report, problems.features, diff);
  }

  render(report, problemFeatures, diff) {
    const { i18n } = this.ctx;
    const sum = (report && report.summary) || {};
    const list = (report && report.problems) || problemFeatures.map((f) => f.properties);
    const errors = sum.errors ?? list.filter((p) => p.severity === 'error').length;
    const warnings = sum.warnings ?? list.filter((p) => p.severity === 'warning').length;
    let h = `<h2>${esc(i18n.t('planner.title'))}</h2><div class="block"><h3>${esc(i18n.t('planner.validation'))}</h3>`;
    if (!list.length) {
      h += `<p class="ok">✔ ${esc(i18n.t('planner.ok'))}</p>`;
    } else {
      h += `<p class="${errors ? 'error' : 'warn'}">${esc(i18n.t('planner.errors', { e: num(errors), w: num(warnings) }))}</p>
        <div class="figs">
          <div class="fig"><div class="v">${esc(area(sum.gap_area_m2 ?? 0, i18n))}</div><div class="k">${esc(i18n.t('planner.gapArea'))}</div></div>
          <div class="fig"><div class="v">${esc(area(sum.overlap_area_m2 ?? 0, i18n))}</div><div class="k">${esc(i18n.t('planner.overlapArea'))}</div></div>
        </div>
        <h3>${esc(i18n.t('planner.problemList'))}</h3><ul class="list problems">`;
      list.slice(0, problemsShown).forEach((p, i) => {
        h += `<li class="item problem-item sev-${esc(p.severity)}" data-i="${i}" tabindex="0">
          <div class="item-top"><span class="kind kind-${esc(p.kind)}">${esc(i18n.t('kind.' + p.kind))}</span>
          <span class="name">${esc((p.grids || []).join(' / '))}</span>${p.area_m2 ? `<span class="ratio">${esc(area(p.area_m2, i18n))}</span>` : ''}</div>
          <div class="item-meta">${esc(p.message || '')}</div></li>`;
      });
      h += '</ul>';
      if (list.length > problemsShown) h += `<p class="muted">${esc(i18n.t('detail.more', { n: num(list.length - problemsShown) }))}</p>`;
    }
    h += '</div>';
    if (diff) h += this.diffHTML(diff);
    this.root.innerHTML = h;
    for (const li of this.root.querySelectorAll('.problem-item')) {
      li.addEventListener('click', () => {
        const p = list[Number(li.dataset.i)];
        const geom = p.geometry || (Array.isArray(p.place) ? { type: 'Point', coordinates: p.place } : null) ||
          (problemFeatures[Number(li.dataset.i)] || {}).geometry;
        // Wide padding: the problem with its neighbours around it.
        if (geom) this.ctx.fit(bboxOf(geom), 16, 160);
      });
    }
  }

  diffHTML(d) {
    const { i18n } = this.ctx;
    const by = { added: 0, removed: 0, reshaped: 0 };
    for (const g of d.grids || []) by[g.change] = (by[g.change] || 0) + 1;
    let h = `<div class="block"><h3>${esc(i18n.t('planner.diffTitle'))}</h3><div class="figs">
      <div class="fig"><div class="v" style="color:#2e7d32">${num(by.added)}</div><div class="k">${esc(i18n.t('planner.added'))}</div></div>
      <div class="fig"><div class="v" style="color:#c62828">${num(by.removed)}</div><div class="k">${esc(i18n.t('planner.removed'))}</div></div>
      <div class="fig"><div class="v" style="color:#ef6c00">${num(by.reshaped)}</div><div class="k">${esc(i18n.t('planner.reshaped'))}</div></div>
    </div>`;
    if (d.incidents !== undefined) h += `<p>${esc(i18n.t('planner.moved', { m: num(d.moved), n: num(d.incidents) }))}</p>`;
    const tr = (d.transfers || []).slice().sort((a, b) => b.count - a.count).slice(0, transfersShown);
    if (tr.length) {
      h += `<h3>${esc(i18n.t('planner.transfers'))}</h3><table class="tbl"><tbody>`;
      for (const t of tr) h += `<tr><td><code>${esc(t.from || '–')}</code></td><td>→</td><td><code>${esc(t.to || '–')}</code></td><td class="r">${num(t.count)}</td></tr>`;
      h += '</tbody></table>';
    }
    const wb = d.workload_before;
    const wa = d.workload_after;
    if (wb && wa) {
      const rowH = (k, a, b) => `<tr><th>${esc(k)}</th><td class="r">${a}</td><td class="r">${b}</td></tr>`;
      h += `<h3>${esc(i18n.t('planner.workload'))}</h3><table class="tbl"><thead><tr><th></th><th class="r">${esc(i18n.t('planner.before'))}</th><th class="r">${esc(i18n.t('planner.after'))}</th></tr></thead><tbody>
        ${rowH(i18n.t('level.grid'), num(wb.grids), num(wa.grids))}
        ${rowH(i18n.t('planner.mean'), num(wb.mean, 1), num(wa.mean, 1))}
        ${rowH(i18n.t('planner.cv'), num(wb.cv, 3), num(wa.cv, 3))}
        ${rowH(i18n.t('planner.max'), `${num(wb.max)} <code>${esc(wb.max_grid || '')}</code>`, `${num(wa.max)} <code>${esc(wa.max_grid || '')}</code>`)}
      </tbody></table>`;
    }
    return h + '</div>';
  }
}
