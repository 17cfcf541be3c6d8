// Builds the dashboard into dist/: the app bundled by esbuild with
// MapLibre GL JS, MapLibre's worker beside it, and index.html pointing at
// both. Asset names carry a content hash so that the server may let
// browsers keep them for a year. dist/build.json records a hash of the
// sources, which a Go test compares with the sources in the tree.
//
// Run through ./build.sh (or `make web`); the output is committed, because
// `go run ./cmd/gridd` cannot run npm.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, rmSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('.', import.meta.url));
const dist = join(root, 'dist');
const assets = join(dist, 'assets');

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const short = (buf) => sha256(buf).slice(0, 12);

// sourceFiles are the inputs whose hash build.json records: every file
// under src/, the package manifests and this script, by slash path.
function sourceFiles() {
  const out = ['build.mjs', 'package.json', 'package-lock.json'];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(join(root, 'src'));
  return out.sort();
}

// sourcesHash must match sourcesHash in web.go: SHA-256 over, for each
// file in path order, "path\n" + byte length + "\n" + the bytes.
function sourcesHash(files) {
  const h = createHash('sha256');
  for (const f of files) {
    const b = readFileSync(join(root, f));
    h.update(`${f}\n${b.length}\n`);
    h.update(b);
  }
  return h.digest('hex');
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const written = [];
const put = (name, data) => {
  writeFileSync(join(assets, name), data);
  written.push('assets/' + name);
  return 'assets/' + name;
};

const mlDir = join(root, 'node_modules', 'maplibre-gl');
const mlVersion = JSON.parse(readFileSync(join(mlDir, 'package.json'), 'utf8')).version;
const worker = readFileSync(join(mlDir, 'dist', 'maplibre-gl-worker.mjs'));
const workerName = `maplibre-gl-worker-${short(worker)}.mjs`;
put(workerName, worker);
put('maplibre-gl-LICENSE.txt', readFileSync(join(mlDir, 'LICENSE.txt')));

const result = await esbuild.build({
  entryPoints: [join(root, 'src', 'main.js')],
  bundle: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari16'],
  minify: true,
  legalComments: 'eof',
  write: false,
  outdir: join(root, 'out'),
  define: { __WORKER_FILE__: JSON.stringify('./' + workerName) },
  loader: { '.css': 'css' },
  logLevel: 'warning',
});
let appJS, appCSS;
for (const f of result.outputFiles) {
  if (f.path.endsWith('.js')) appJS = put(`app-${short(f.contents)}.js`, f.contents);
  else if (f.path.endsWith('.css')) appCSS = put(`app-${short(f.contents)}.css`, f.contents);
}
if (!appJS || !appCSS) throw new Error('esbuild produced no JS or no CSS');

const favicon = readFileSync(join(root, 'src', 'favicon.svg'));
const faviconName = put(`favicon-${short(favicon)}.svg`, favicon);

const html = readFileSync(join(root, 'src', 'index.html'), 'utf8')
  .replace('%APP_JS%', appJS)
  .replace('%APP_CSS%', appCSS)
  .replace('%FAVICON%', faviconName);
if (html.includes('%')) {
  const m = /%[A-Z_]+%/.exec(html);
  if (m) throw new Error(`index.html: placeholder ${m[0]} left`);
}
writeFileSync(join(dist, 'index.html'), html);

const esbuildVersion = esbuild.version;
const manifest = {
  sources: sourcesHash(sourceFiles()),
  maplibre_gl: mlVersion,
  esbuild: esbuildVersion,
  files: ['index.html', ...written].sort(),
};
writeFileSync(join(dist, 'build.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`built dist/ (${manifest.files.length} files, maplibre-gl ${mlVersion}, esbuild ${esbuildVersion})`);
