// Place labels as HTML over the map. MapLibre text needs glyph files and
// the dashboard fetches nothing from outside the server, so names are
// placed here instead: each at its polygon's pole of inaccessibility,
// coarser levels first, a label dropped when it would overlap one placed.

import polylabel from 'polylabel';

// Zoom band in which each level's names show.
const levelShow = {
  district: [0, 11.4],
  street: [10.6, 13.4],
  community: [12.6, 15.2],
  grid: [14.6, 25],
};
const order = ['district', 'street', 'community', 'grid'];
const pad = 4;

// labelPoint is a point well inside a (multi)polygon: the pole of
// inaccessibility of its largest part, in lon/lat.
export function labelPoint(geom) {
  if (!geom) return null;
  let polys = [];
  if (geom.type === 'Polygon') polys = [geom.coordinates];
  else if (geom.type === 'MultiPolygon') polys = geom.coordinates;
  else if (geom.type === 'Point') return geom.coordinates;
  if (!polys.length) return null;
  let best = polys[0];
  let bestArea = -1;
  for (const p of polys) {
    const a = Math.abs(ringArea(p[0]));
    if (a > bestArea) {
      best = p;
      bestArea = a;
    }
  }
  // Longitudes are scaled by cos(lat) so that the pole is found in
  // roughly metric space.
  const lat0 = best[0][0][1];
  const k = Math.cos((lat0 * Math.PI) / 180);
  const scaled = best.map((r) => r.map(([x, y]) => [x * k, y]));
  const [x, y] = polylabel(scaled, Math.sqrt(bestArea) / 50 || 1e-6);
  return [x / k, y];
}

function ringArea(r) {
  let s = 0;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) s += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
  return s / 2;
}

export class Labels {
  constructor(map, root) {
    this.map = map;
    this.root = root;
    this.enabled = true;
    this.items = { district: [], street: [], community: [], grid: [] };
    this.gridCodes = new Set();
    this.frame = 0;
    const schedule = () => this.schedule();
    map.on('move', schedule);
    map.on('resize', schedule);
  }

  setEnabled(on) {
    this.enabled = on;
    this.root.hidden = !on;
    this.schedule();
  }

  // set replaces a level's labels with the names of features.
  set(level, features) {
    for (const it of this.items[level]) it.el.remove();
    this.items[level] = [];
    if (level === 'grid') this.gridCodes.clear();
    this.add(level, features);
  }

  // add appends labels for features not already labelled (grids arrive
  // per viewport).
  add(level, features) {
    const frag = document.createDocumentFragment();
    for (const f of features) {
      const p = f.properties || {};
      if (level === 'grid') {
        if (this.gridCodes.has(p.code)) continue;
        this.gridCodes.add(p.code);
      }
      const at = labelPoint(f.geometry);
      if (!at || !p.name) continue;
      const el = document.createElement('div');
      el.className = `label label-${level}`;
      el.textContent = level === 'grid' ? shortGridName(p.name) : p.name;
      el.dataset.code = p.code || '';
      el.style.display = 'none';
      frag.appendChild(el);
      this.items[level].push({ el, at, w: 0, h: 0, shown: false });
    }
    this.root.appendChild(frag);
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.place();
    });
  }

  place() {
    if (!this.enabled) return;
    const z = this.map.getZoom();
    const { clientWidth: W, clientHeight: H } = this.map.getContainer();
    const placed = [];
    const overlaps = (r) => placed.some((q) => r.x0 < q.x1 && r.x1 > q.x0 && r.y0 < q.y1 && r.y1 > q.y0);
    for (const level of order) {
      const [lo, hi] = levelShow[level];
      const active = z >= lo && z < hi;
      for (const it of this.items[level]) {
        let show = false;
        if (active) {
          const p = this.map.project(it.at);
          if (p.x > -50 && p.y > -20 && p.x < W + 50 && p.y < H + 20) {
            if (!it.w) {
              it.el.style.display = 'block';
              it.w = it.el.offsetWidth;
              it.h = it.el.offsetHeight;
            }
            const r = { x0: p.x - it.w / 2 - pad, x1: p.x + it.w / 2 + pad, y0: p.y - it.h / 2 - pad, y1: p.y + it.h / 2 + pad };
            if (r.x0 >= 0 && r.x1 <= W && r.y0 >= 0 && r.y1 <= H && !overlaps(r)) {
              placed.push(r);
              show = true;
              it.el.style.transform = `translate(${Math.round(p.x - it.w / 2)}px, ${Math.round(p.y - it.h / 2)}px)`;
            }
          }
        }
        if (show !== it.shown || (!show && it.el.style.display !== 'none')) {
          it.el.style.display = show ? 'block' : 'none';
          it.shown = show;
        }
      }
    }
  }
}

// shortGridName drops the community part of a grid's name ("和平里第3网格"
// → "第3网格"): the community's own label is nearby.
function shortGridName(name) {
  const m = /第\d+网格$/.exec(name);
  return m ? m[0] : name;
}
