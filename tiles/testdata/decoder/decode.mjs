// Decodes vector tiles with @mapbox/vector-tile and prints, as JSON, what
// the Go tests check: layers, features, properties, and how the reader
// groups polygon rings (classifyRings) with each ring's MVT 2.1 area.
//
// Usage: node decode.mjs z/x/y=FILE.mvt [...]
import {readFileSync} from 'node:fs';
import {PbfReader} from 'pbf';
import {VectorTile, classifyRings} from '@mapbox/vector-tile';

// Surveyor's formula as MVT 2.1 §4.3.4.4 states it (tile coordinates,
// y down): positive for an exterior ring.
function surveyorArea(ring) {
    let s = 0;
    for (let i = 0; i < ring.length - 1; i++) {
        s += ring[i].x * ring[i + 1].y - ring[i + 1].x * ring[i].y;
    }
    return s / 2;
}

const out = [];
for (const arg of process.argv.slice(2)) {
    const eq = arg.indexOf('=');
    const [z, x, y] = arg.slice(0, eq).split('/').map(Number);
    const file = arg.slice(eq + 1);
    const tile = new VectorTile(new PbfReader(readFileSync(file)));
    const layers = [];
    for (const name of Object.keys(tile.layers)) {
        const layer = tile.layers[name];
        const features = [];
        for (let i = 0; i < layer.length; i++) {
            const f = layer.feature(i);
            const rings = f.loadGeometry();
            const entry = {
                id: f.id,
                type: ['Unknown', 'Point', 'LineString', 'Polygon'][f.type],
                properties: f.properties,
            };
            if (f.type === 3) {
                // Each polygon as the list of its rings' areas, exterior first.
                entry.polygons = classifyRings(rings).map(p => p.map(surveyorArea));
            } else {
                entry.lonlat = f.toGeoJSON(x, y, z).geometry.coordinates;
            }
            features.push(entry);
        }
        layers.push({name, version: layer.version, extent: layer.extent, features});
    }
    out.push({tile: `${z}/${x}/${y}`, file, layers});
}
process.stdout.write(JSON.stringify(out));
