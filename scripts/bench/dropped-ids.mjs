// Checks that no feature is dropped: for every tile of a list, every feature id the reference
// server returns whose geometry meets the tile itself (not only its buffer) must be in ours.
//
// Usage: node scripts/bench/dropped-ids.mjs ZXY_FILE REFERENCE_TEMPLATE OUR_TEMPLATE OUR_LAYER
// Templates hold {z}/{x}/{y}. Exits 1 when a feature is missing. Decodes with
// @mapbox/vector-tile (from e2e/node_modules).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../e2e/package.json', import.meta.url));
const { VectorTile } = require('@mapbox/vector-tile');
const { PbfReader } = require('pbf');

const [zxyFile, refTemplate, ourTemplate, ourLayer] = process.argv.slice(2);
const url = (t, [z, x, y]) => t.replace('{z}', z).replace('{x}', x).replace('{y}', y);

async function layerOf(u, name) {
  const res = await fetch(u);
  if (res.status === 204) return null;
  if (!res.ok) throw new Error(`${u}: HTTP ${res.status}`);
  const tile = new VectorTile(new PbfReader(new Uint8Array(await res.arrayBuffer())));
  return name ? tile.layers[name] : Object.values(tile.layers)[0];
}

// meetsTile tells whether rings in tile coordinates reach into the open square (0, extent)²:
// a feature snapped onto the tile's edge from outside lies in the buffer, not the tile.
function meetsTile(rings, extent) {
  const inside = (p) => p.x > 0 && p.x < extent && p.y > 0 && p.y < extent;
  for (const ring of rings) if (ring.some(inside)) return true;
  const corners = [[0, 0], [extent, 0], [extent, extent], [0, extent]];
  const square = corners.map((c, i) => [c, corners[(i + 1) % 4]]);
  for (const ring of rings) {
    for (let i = 0; i + 1 < ring.length; i++) {
      const a = [ring[i].x, ring[i].y], b = [ring[i + 1].x, ring[i + 1].y];
      if (square.some(([c, d]) => crosses(a, b, c, d))) return true;
    }
  }
  // The tile lies wholly inside the polygon: its centre is inside the outer ring.
  return pointInRing([extent / 2, extent / 2], rings[0]);
}

function orient(a, b, c) { return Math.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])); }
function crosses(a, b, c, d) {
  return orient(a, b, c) * orient(a, b, d) < 0 && orient(c, d, a) * orient(c, d, b) < 0;
}
function pointInRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i], b = ring[j];
    if ((a.y > y) !== (b.y > y) && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

const tiles = readFileSync(zxyFile, 'utf8').trim().split('\n').map((l) => l.split('/'));
let checked = 0, missing = 0, refFeatures = 0;
for (const zxy of tiles) {
  const ref = await layerOf(url(refTemplate, zxy));
  if (!ref) continue;
  const ours = await layerOf(url(ourTemplate, zxy), ourLayer);
  const have = new Set();
  for (let i = 0; ours && i < ours.length; i++) have.add(Number(ours.feature(i).id));
  for (let i = 0; i < ref.length; i++) {
    const f = ref.feature(i);
    refFeatures++;
    if (have.has(Number(f.id))) continue;
    if (!meetsTile(f.loadGeometry(), ref.extent)) continue;
    missing++;
    if (missing <= 20) console.log(`missing: tile ${zxy.join('/')} feature ${f.id}`);
  }
  checked++;
}
console.log(`dropped-ids: ${checked} tiles, ${refFeatures} reference features, ${missing} missing from ours`);
process.exit(missing ? 1 : 0);
