// Browser test of the dashboard against a running gridd with the demo city.
//
//   node dashboard.test.mjs http://127.0.0.1:PORT/ OUTDIR [--quick]
//
// Drives Debian's chromium (CHROMIUM, default /usr/bin/chromium) through
// playwright-core: loads the dashboard, waits for the tiles, checks what
// MapLibre rendered, clicks a grid, switches language, colour mode and the
// planner view, and saves a screenshot of each step in OUTDIR. --quick
// keeps to what depends on the store: it opens a view given in the URL,
// checks that it is restored, opens a grid's detail and runs the planner. Any console error, failed
// request or request to another origin fails the run.
// Prints one line per check; exits 1 when any failed.

import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const [url, outDir] = args.filter((a) => a !== '--quick');
if (!url || !outDir) {
  console.error('usage: node dashboard.test.mjs URL OUTDIR [--quick]');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const origin = new URL(url).origin;
mkdirSync(outDir, { recursive: true });

const failures = [];
const problems = []; // console errors, failed and outside requests
let shots = 0;

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`.padStart(6);

function check(cond, what, detail = '') {
  if (cond) console.log(`ok   ${what} (${elapsed()})`);
  else {
    console.log(`FAIL ${what}${detail ? ': ' + detail : ''}`);
    failures.push(what);
  }
  return cond;
}

const userDataDir = mkdtempSync(join(tmpdir(), 'gridd-e2e-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  viewport: { width: 1440, height: 900 },
  deviceScaleFactor: 1,
  locale: 'zh-CN',
  timezoneId: 'Asia/Shanghai',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    // WebGL on the CPU: headless machines have no GPU.
    '--enable-unsafe-swiftshader',
  ],
});

// open loads the dashboard, failing at once when the server does not
// serve it.
async function open(page, target) {
  const res = await page.goto(target, { waitUntil: 'load' });
  if (!res || !res.ok()) {
    throw new Error(`GET ${target} answered ${res ? res.status() : 'nothing'}: is web.Handler() mounted as the router's catch-all route?`);
  }
}

// quickRun opens a view written in the URL (zoom 14.2 over the city's
// centre), checks that the map shows exactly that view with grids and
// heat, and clicks the grid in the middle.
async function quickRun(page, { shot, idle, panelSettled }) {
  const tj = await (await fetch(new URL('tiles/grids.json', url))).json();
  const [w, s, e, n] = tj.bounds;
  const want = { zoom: 14.2, lat: (s + n) / 2, lon: (w + e) / 2 };
  const hash = `#map=${want.zoom}/${want.lat.toFixed(5)}/${want.lon.toFixed(5)}&layers=grids,heat,labels&period=90&lang=zh`;
  await open(page, url + hash);
  await page.waitForSelector('body[data-ready="true"]');
  await idle();
  const got = await page.evaluate(() => {
    const m = window.gridd.map;
    return {
      zoom: m.getZoom(), c: m.getCenter(),
      grids: m.queryRenderedFeatures({ layers: ['grids-fill-grid'] }).length,
      heat: m.queryRenderedFeatures({ layers: ['heat'] }).length,
      period: document.getElementById('period-preset').value,
    };
  });
  check(Math.abs(got.zoom - want.zoom) < 0.01 && Math.abs(got.c.lng - want.lon) < 1e-4 && Math.abs(got.c.lat - want.lat) < 1e-4 && got.period === '90',
    'the view in the URL is restored', `${JSON.stringify(want)} → ${JSON.stringify(got)}`);
  check(got.grids > 0, 'grids render at grid level', `${got.grids}`);
  check(got.heat > 0, 'heat layer renders', `${got.heat}`);
  const target = await page.evaluate(() => {
    const m = window.gridd.map;
    const W = m.getContainer().clientWidth;
    const H = m.getContainer().clientHeight;
    for (const [dx, dy] of [[0, 0], [40, 30], [-40, -30], [60, -50], [-70, 40]]) {
      const p = [W / 2 + dx, H / 2 + dy];
      const f = m.queryRenderedFeatures(p, { layers: ['grids-fill-grid'] })[0];
      if (f) {
        const r = m.getContainer().getBoundingClientRect();
        return { code: f.properties.code, x: r.left + p[0], y: r.top + p[1] };
      }
    }
    return null;
  });
  if (!check(target !== null, 'a grid is under the map centre')) return;
  await page.mouse.click(target.x, target.y);
  await page.waitForFunction((code) => (document.querySelector('#tab-detail .grid-code') || {}).textContent === code, target.code);
  await panelSettled('#detail-figures');
  await panelSettled('#detail-trend');
  await panelSettled('#detail-overdue');
  const errors = await page.evaluate(() => [...document.querySelectorAll('#tab-detail .error')].map((e) => e.textContent));
  check(errors.length === 0, `clicking grid ${target.code} opens its detail with figures, trend and overdue cases`, errors.join(' | '));
  await idle();
  await shot('grid-detail');
}

// plannerRun uploads a draft that removes one grid (a gap) and grows
// another by a fifth (overlaps), opens it in the planner view and checks
// what the map and the panel show.
async function plannerRun(page, { shot, idle, panelSettled }) {
  // --- planner: a draft with a gap and an overlap -----------------------------
  const draft = await page.evaluate(async () => {
    const api = window.gridd.api;
    const fc = await api.get('/api/v1/grids');
    const sets = await api.get('/api/v1/gridsets');
    const leaves = fc.features.filter((f) => f.properties.level === 'grid');
    // Remove one grid (a gap) and blow another up by a fifth (overlaps).
    const gone = leaves[Math.floor(leaves.length / 2)];
    const grown = leaves[Math.floor(leaves.length / 3)];
    const scale = (ring, c, k) => ring.map(([x, y]) => [c[0] + (x - c[0]) * k, c[1] + (y - c[1]) * k]);
    const polys = grown.geometry.type === 'Polygon' ? [grown.geometry.coordinates] : grown.geometry.coordinates;
    const ring = polys[0][0];
    const c = ring.reduce((s, p) => [s[0] + p[0] / ring.length, s[1] + p[1] / ring.length], [0, 0]);
    const grownGeom = { type: 'MultiPolygon', coordinates: polys.map((p) => p.map((r) => scale(r, c, 1.2))) };
    const features = fc.features.filter((f) => f !== gone).map((f) => (f === grown ? { ...f, geometry: grownGeom } : f))
      .map((f) => ({ type: 'Feature', properties: f.properties, geometry: f.geometry }));
    const body = { type: 'FeatureCollection', name: 'e2e draft', features };
    const res = await fetch('/api/v1/gridsets?name=e2e%20draft', { method: 'POST', headers: { 'Content-Type': 'application/geo+json', ...api.headers() }, body: JSON.stringify(body) });
    const text = await res.text();
    let doc = {};
    try { doc = JSON.parse(text); } catch { /* reported below */ }
    const loc = res.headers.get('Location') || '';
    const id = doc.id ?? (doc.gridset && doc.gridset.id) ?? (loc.match(/(\d+)$/) || [])[1];
    return { status: res.status, id: id === undefined ? null : String(id), gone: gone.properties.code, grown: grown.properties.code, sets: (sets.gridsets || sets.sets || sets).length, body: text.slice(0, 300) };
  });
  check(draft.status >= 200 && draft.status < 300 && draft.id, 'POST /api/v1/gridsets creates a draft', JSON.stringify(draft));
  if (draft.id) {
    await page.click('#mode-planner');
    await page.waitForFunction(() => document.getElementById('planner-set').options.length > 0);
    if ((await page.inputValue('#planner-set')) !== draft.id) await page.selectOption('#planner-set', draft.id);
    await page.waitForFunction(() => /校验结果|Validation/.test(document.getElementById('tab-planner').textContent));
    await panelSettled('#tab-planner');
    await idle();
    const plan = await page.evaluate((d) => {
      const m = window.gridd.map;
      const txt = document.getElementById('tab-planner').textContent;
      return {
        kinds: [...document.querySelectorAll('#tab-planner .problem-item .kind')].map((k) => k.className.replace('kind ', '')),
        problemAreas: m.queryRenderedFeatures({ layers: ['plan-problems-fill', 'plan-problems-line', 'plan-problem-points'] }).length,
        draftLines: m.queryRenderedFeatures({ layers: ['plan-draft-line'] }).length,
        removed: m.querySourceFeatures('plan-base').filter((f) => f.properties.code === d.gone).length,
        reshaped: m.querySourceFeatures('plan-draft').filter((f) => f.properties._change === 'reshaped').length,
        hasDiff: /与基准相比|Against the base/.test(txt),
        hash: window.location.hash,
        errors: [...document.querySelectorAll('#tab-planner .error')].map((e) => e.textContent).filter((t) => !/错误|errors/.test(t)),
      };
    }, draft);
    console.log(`     planner: ${JSON.stringify(plan)}`);
    check(plan.kinds.includes('kind-gap'), 'the planner lists the gap the draft opens');
    check(plan.kinds.includes('kind-overlap'), 'the planner lists the overlaps the draft makes');
    check(plan.problemAreas > 0, 'gaps and overlaps render on the map');
    check(plan.draftLines > 0, 'the draft grids render');
    check(plan.hasDiff && plan.removed > 0 && plan.reshaped > 0, 'the diff against the set in force shows the removed and reshaped grids', JSON.stringify(plan));
    check(plan.hash.includes('mode=planner') && plan.hash.includes('set=' + draft.id), 'the URL keeps the planner view', plan.hash);
    await shot('planner');
    // Zoom onto the first problem, as a planner would.
    await page.click('#tab-planner .problem-item');
    await page.waitForTimeout(800);
    await idle();
    await shot('planner-problem');
  }

}

async function main() {
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(60000);
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()} ${JSON.stringify(msg.location())}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`request outside the server: ${u}`);
  });
  page.on('requestfailed', (req) => {
    const why = req.failure() ? req.failure().errorText : '';
    // MapLibre cancels tiles it no longer needs while the map moves.
    if (why.includes('ERR_ABORTED')) return;
    problems.push(`request failed: ${req.url()} ${why}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });

  const shot = async (name) => {
    shots++;
    const file = join(outDir, `${String(shots).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file });
    console.log(`     screenshot ${file} (${elapsed()})`);
  };
  // idle waits until the map has loaded every tile and drawn them.
  const idle = () => page.evaluate(() => new Promise((resolve) => {
    const m = window.gridd.map;
    m.once('idle', () => resolve());
    m.triggerRepaint();
  }));
  const panelSettled = (sel) => page.waitForFunction((s) => {
    const el = document.querySelector(s);
    return el && el.textContent.length > 0 && !/正在加载|Loading/.test(el.textContent);
  }, sel);
  const rendered = (layers) => page.evaluate((ls) => window.gridd.map.queryRenderedFeatures({ layers: ls }).length, layers);

  if (quick) {
    await quickRun(page, { shot, idle, panelSettled });
  } else {
    // --- first load ---------------------------------------------------------
    await open(page, url);
    await page.waitForSelector('body[data-ready="true"]');
    await idle();
    const fills = ['grids-fill-district', 'grids-fill-street', 'grids-fill-community', 'grids-fill-grid'];
    const overview = await page.evaluate((ls) => {
      const m = window.gridd.map;
      const feats = m.queryRenderedFeatures({ layers: ls });
      const codes = new Set(feats.map((f) => f.properties.code));
      return {
        zoom: m.getZoom(),
        features: feats.length,
        codes: codes.size,
        counted: feats.filter((f) => Number(f.properties.count) > 0).length,
        level: feats[0] && feats[0].properties.level,
        heat: m.queryRenderedFeatures({ layers: ['heat'] }).length,
        labels: [...document.querySelectorAll('#labels .label')].filter((l) => l.style.display === 'block').map((l) => l.textContent),
        legendRows: document.querySelectorAll('#legend-grids .lg-row').length,
        title: document.querySelector('[data-i18n="app.title"]').textContent,
        period: [document.getElementById('period-from').value, document.getElementById('period-to').value],
      };
    }, fills);
    console.log(`     overview: zoom ${overview.zoom.toFixed(2)}, ${overview.codes} ${overview.level} units, ${overview.heat} heat points, labels ${overview.labels.slice(0, 6).join(' ')}…, period ${overview.period.join('…')}`);
    check(overview.features > 0 && overview.codes >= 3, 'grids layer renders units', JSON.stringify(overview));
    check(overview.counted > 0, 'grid units carry incident counts for the period');
    check(overview.heat > 0, 'heat layer renders');
    check(overview.legendRows >= 3, 'grids legend shows its classes', `${overview.legendRows} rows`);
    check(overview.labels.length >= 3, 'place labels are shown', overview.labels.join(','));
    check(overview.title === '网格化管理指挥中心', 'interface starts in Chinese', overview.title);
    check(overview.period[0] !== '' && overview.period[1] !== '', 'the period defaults to the last days with data', overview.period.join('…'));
    await shot('overview');

    // --- analysis layers ----------------------------------------------------
    // Heat off, so that the analysis layers read on their own.
    await page.click('#layer-heat');
    await page.click('#layer-hotspots');
    await page.click('#layer-emerging');
    await panelSettled('#legend-emerging');
    await idle();
    const hot = await rendered(['hotspots-fill']);
    const em = await rendered(['emerging-fill']);
    check(hot > 0, 'hot spot cells render', `${hot}`);
    check(em > 0, 'emerging hot spot cells render', `${em}`);
    await page.click('#right [data-tab="emerging"]');
    await panelSettled('#tab-emerging');
    await shot('hotspots-emerging');
    await page.click('#layer-hotspots');
    await page.click('#layer-emerging');
    await page.click('#layer-heat');

    // --- grid detail ----------------------------------------------------------
    const centre = await page.evaluate(() => {
      const m = window.gridd.map;
      const c = m.getCenter();
      m.jumpTo({ center: c, zoom: 14.2 });
      return { lon: c.lng, lat: c.lat };
    });
    await idle();
    const target = await page.evaluate(() => {
      const m = window.gridd.map;
      const W = m.getContainer().clientWidth;
      const H = m.getContainer().clientHeight;
      // Probe points around the centre for one inside a grid, away from edges.
      for (const [dx, dy] of [[0, 0], [40, 30], [-40, -30], [60, -50], [-70, 40]]) {
        const p = [W / 2 + dx, H / 2 + dy];
        const f = m.queryRenderedFeatures(p, { layers: ['grids-fill-grid'] })[0];
        if (f) {
          const r = m.getContainer().getBoundingClientRect();
          return { code: f.properties.code, name: f.properties.name, x: r.left + p[0], y: r.top + p[1] };
        }
      }
      return null;
    });
    check(target !== null, 'a grid is under the map centre at zoom 14', JSON.stringify(centre));
    if (target) {
      await page.mouse.click(target.x, target.y);
      await page.waitForFunction((code) => {
        const el = document.querySelector('#tab-detail .grid-code');
        return el && el.textContent === code;
      }, target.code);
      check(true, `clicking grid ${target.code} (${target.name}) opens its detail`);
      await panelSettled('#detail-figures');
      await panelSettled('#detail-trend');
      await panelSettled('#detail-overdue');
      const detail = await page.evaluate(() => ({
        figures: document.querySelectorAll('#detail-figures .fig').length,
        spark: !!document.querySelector('#detail-trend svg.spark path'),
        errors: [...document.querySelectorAll('#tab-detail .error')].map((e) => e.textContent),
        hash: window.location.hash,
        selection: window.gridd.map.querySourceFeatures('selection').length,
      }));
      check(detail.errors.length === 0, 'detail panel loads without errors', detail.errors.join(' | '));
      check(detail.figures >= 6, 'detail shows the accountability figures', `${detail.figures}`);
      check(detail.spark, 'detail shows a trend sparkline');
      check(detail.hash.includes('grid=' + target.code), 'the URL keeps the selected grid', detail.hash);
      check(/map=[\d.]+\/[\d.]+\/[\d.]+/.test(detail.hash) && detail.hash.includes('layers=') && detail.hash.includes('period='), 'the URL hash holds map, layers and period', detail.hash);
      // Single incidents, coloured by status, show from zoom 14.
      await page.click('#layer-incidents');
      await idle();
      const points = await rendered(['incidents-points']);
      check(points > 0, 'single incidents render at zoom 14', `${points}`);
      await shot('grid-detail');
      await page.click('#layer-incidents');
    }

    // --- alerts -----------------------------------------------------------------
    await page.click('#right [data-tab="alerts"]');
    await panelSettled('#tab-alerts');
    const alerts = await page.evaluate(() => ({
      items: document.querySelectorAll('#tab-alerts .alert-item').length,
      error: (document.querySelector('#tab-alerts .error') || {}).textContent || '',
    }));
    check(alerts.error === '', 'alerts list loads', alerts.error);
    console.log(`     ${alerts.items} alerts`);
    await page.evaluate(() => window.gridd.map.jumpTo({ zoom: 12.3 }));
    await idle();
    await shot('alerts');

    // --- colour by an accountability figure ---------------------------------
    await page.selectOption('#colour-by', 'closed_rate');
    await page.waitForFunction(() => /结案率/.test(document.getElementById('legend-grids').textContent));
    await page.waitForFunction(() => {
      const m = window.gridd.map;
      return m.queryRenderedFeatures({ layers: ['grids-fill-community'] }).some((f) => f.state && typeof f.state.v === 'number');
    });
    check(true, 'grids are coloured by closed rate from /api/v1/stats/grids');
    await idle();
    await shot('closed-rate');
    await page.selectOption('#colour-by', 'count');

    // --- English ----------------------------------------------------------------
    await page.click('#lang');
    const en = await page.evaluate(() => ({
      title: document.querySelector('[data-i18n="app.title"]').textContent,
      tab: document.querySelector('#right [data-tab="alerts"]').textContent,
      hash: window.location.hash,
    }));
    check(en.title === 'Grid Management Command Centre' && en.tab === 'Alerts', 'the language toggle switches to English', JSON.stringify(en));
    check(en.hash.includes('lang=en'), 'the URL keeps the language');
    await page.click('#right [data-tab="detail"]');
    if (target) await panelSettled('#detail-overdue');
    await idle();
    await shot('english');
    await page.click('#lang');

  }
  await plannerRun(page, { shot, idle, panelSettled });
  check(problems.length === 0, 'no console errors, failed requests or outside requests', '\n  ' + problems.join('\n  '));
}

try {
  await main();
} catch (err) {
  failures.push(String(err && err.stack ? err.stack : err));
  console.log(`FAIL ${err && err.stack ? err.stack : err}`);
  if (problems.length) console.log('     problems so far:\n  ' + problems.join('\n  '));
  try {
    const page = context.pages()[0];
    if (page) await page.screenshot({ path: join(outDir, 'failure.png') });
  } catch {
    // The browser may be gone.
  }
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
console.log(failures.length ? `${failures.length} check(s) failed` : 'all checks passed');
process.exit(failures.length ? 1 : 0);
