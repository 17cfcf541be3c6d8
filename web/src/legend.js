// Legends beside each layer switch, so that every colour on the map is
// explained where the layer is turned on.

import { palette, colourModes, legendClasses } from './mapstyle.js';
import { esc, num } from './format.js';

const swatch = (colour, cls = '') => `<span class="sw ${cls}" style="background:${colour}"></span>`;
const row = (sw, text) => `<div class="lg-row">${sw}<span>${esc(text)}</span></div>`;

function classLabel(mode, lo, hi, i18n) {
  const m = colourModes[mode];
  if (m.rate) {
    const p = (v) => Math.round(v * 100) + '%';
    if (hi === null) return '≥ ' + p(lo);
    if (lo === 0) return '< ' + p(hi);
    return `${p(lo)} – ${p(hi)}`;
  }
  if (mode === 'median_close_hours') {
    const h = ' ' + i18n.t('legend.hours');
    if (hi === null) return '≥ ' + num(lo, 1) + h;
    if (lo === 0) return '< ' + num(hi, 1) + h;
    return `${num(lo, 1)} – ${num(hi, 1)}${h}`;
  }
  // Whole counts: a class [lo, hi) is lo … hi−1.
  if (hi === null) return lo <= 1 ? '≥ 1' : '≥ ' + num(lo);
  if (hi - 1 <= lo) return num(lo);
  return `${num(lo)} – ${num(hi - 1)}`;
}

export function gridsLegend(mode, breaks, level, i18n, min) {
  const m = colourModes[mode];
  const lvl = i18n.t('level.' + level);
  let h = `<div class="lg-title">${esc(i18n.t('colour.' + mode))} · ${esc(level === 'grid' ? i18n.t('legend.levelGrid') : i18n.t('legend.level', { level: lvl }))}</div>`;
  if (m.zeroIsNone) h += row(swatch(palette.zero, 'outline'), '0');
  for (const [c, lo, hi] of legendClasses(mode, breaks, min)) h += row(swatch(c), classLabel(mode, lo, hi, i18n));
  if (m.source === 'stats') h += row(swatch(palette.noData), i18n.t('legend.noData'));
  return h;
}

export function heatLegend(top, i18n) {
  const stops = palette.heat.map(([p, c]) => `${c} ${p * 100}%`).join(',');
  return `<div class="lg-gradient" style="background:linear-gradient(to right, ${stops})"></div>
    <div class="lg-ends"><span>${esc(i18n.t('legend.heatLow'))}</span><span>${esc(i18n.t('legend.heatHigh'))}</span></div>
    <div class="lg-note">${esc(i18n.t('legend.heatNote', { n: num(top) }))}</div>`;
}

export function incidentsLegend(i18n) {
  let h = row(`<span class="sw round" style="background:${palette.cluster};opacity:.75"></span>`, i18n.t('legend.clusters'));
  for (const [s, c] of Object.entries(palette.status)) h += row(`<span class="sw dot" style="background:${c}"></span>`, i18n.t('status.' + s));
  return h + `<div class="lg-note">${esc(i18n.t('legend.incidentsZoom'))}</div>`;
}

export function hotspotsLegend(i18n) {
  const rows = [[3, 'hot99'], [2, 'hot95'], [1, 'hot90'], [0, 'notSig'], [-1, 'cold90'], [-2, 'cold95'], [-3, 'cold99']];
  let h = '';
  for (const [bin, key] of rows) h += row(swatch(bin === 0 ? '#ffffff' : palette.hotspot[bin], bin === 0 ? 'outline' : ''), i18n.t('legend.' + key));
  return h + `<div class="lg-note">${esc(i18n.t('legend.hotspotsZoom'))}</div>`;
}

// emergingLegend lists the categories found, most urgent first; before
// any result it lists the hot categories.
export function emergingLegend(counts, i18n) {
  const hot = Object.keys(palette.emerging).filter((k) => k.endsWith('_hot_spot'));
  const cold = Object.keys(palette.emerging).filter((k) => k.endsWith('_cold_spot'));
  let h = '';
  const shown = counts ? hot.filter((k) => counts[k]) : hot;
  for (const k of shown) h += row(swatch(palette.emerging[k]), i18n.t('emcat.' + k) + (counts ? ` (${counts[k]})` : ''));
  const coldN = counts ? cold.reduce((s, k) => s + (counts[k] || 0), 0) : 0;
  if (!counts || coldN) h += row(swatch(palette.emerging.persistent_cold_spot), i18n.t('emcat.cold') + (counts ? ` (${coldN})` : ''));
  if (counts && !shown.length && !coldN) h += `<div class="lg-note">${esc(i18n.t('emerging.empty'))}</div>`;
  return h;
}

export function boundariesLegend(i18n) {
  const line = (c, w, dash = false) => `<span class="sw line" style="border-top:${w}px ${dash ? 'dashed' : 'solid'} ${c}"></span>`;
  return `<div class="lg-note">${esc(i18n.t('legend.boundaries'))}</div>
    <div class="lg-lines">${line('#141b26', 3.5)}${line('#2b3545', 2.5)}${line('#4a5668', 1.5)}${line('#6f7b8c', 1)}</div>` +
    row(line(palette.alert, 2.5, true), i18n.t('legend.alert')) +
    row(line(palette.selected, 3), i18n.t('legend.selected'));
}

export function plannerLegend(i18n) {
  return row(swatch(palette.plan.gap), i18n.t('planner.gap')) +
    row(swatch(palette.plan.overlap), i18n.t('planner.overlap')) +
    row(swatch(palette.plan.other), i18n.t('planner.otherProblem')) +
    row(swatch(palette.plan.added), i18n.t('planner.added')) +
    row(swatch(palette.plan.reshaped), i18n.t('planner.reshaped')) +
    row(swatch(palette.plan.removed), i18n.t('planner.removed')) +
    row(`<span class="sw line" style="border-top:1px solid #7d8898"></span>`, i18n.t('planner.draftGrid'));
}
