// A small SVG trend line of counts per time step.

import { esc } from './format.js';

export function sparkline(values, { width = 320, height = 64, labels = [] } = {}) {
  const n = values.length;
  if (!n) return '';
  const max = Math.max(1, ...values);
  const padTop = 6;
  const h = height - padTop;
  const x = (i) => (n === 1 ? width / 2 : (i * width) / (n - 1));
  const y = (v) => padTop + h - (v / max) * h;
  let d = '';
  values.forEach((v, i) => {
    d += `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
  });
  const area = `${d}L${x(n - 1).toFixed(1)},${height}L${x(0).toFixed(1)},${height}Z`;
  const last = values[n - 1];
  return `<svg class="spark" viewBox="0 0 ${width} ${height}" width="100%" height="${height}" preserveAspectRatio="none" role="img">
    <path d="${area}" fill="rgba(240,59,32,0.15)"/>
    <path d="${d}" fill="none" stroke="#d7301f" stroke-width="1.6" vector-effect="non-scaling-stroke"/>
    <circle cx="${x(n - 1).toFixed(1)}" cy="${y(last).toFixed(1)}" r="2.5" fill="#d7301f"/>
  </svg>
  <div class="spark-axis"><span>${esc(labels[0] || '')}</span><span>max ${max}</span><span>${esc(labels[1] || '')}</span></div>`;
}
