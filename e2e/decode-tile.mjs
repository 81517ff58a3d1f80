// Decodes Mapbox Vector Tiles with an independent decoder (@mapbox/vector-tile and pbf, the
// parser MapLibre GL itself uses) and prints what it read, for the Go tests of the tiles
// package to check.
//
// Usage: node e2e/decode-tile.mjs TILE.mvt [TILE.mvt ...]
// Prints one JSON line per file:
//   {"file": PATH, "layers": {NAME: {"version", "extent", "features": [
//     {"id", "type", "properties", "bbox": [minX, minY, maxX, maxY], "rings": [AREA, ...]}]}}}
// where type is 1 point, 2 line, 3 polygon, and rings lists the surveyor's-formula area of
// each ring of a polygon in tile coordinates (positive: an outer ring, as the spec defines it).
import { readFileSync } from 'node:fs';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';

function ringArea(ring) {
  let s = 0;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i];
    const b = ring[(i + 1) % ring.length];
    s += a.x * b.y - b.x * a.y;
  }
  return s / 2;
}

function decode(path) {
  const tile = new VectorTile(new PbfReader(readFileSync(path)));
  const layers = {};
  for (const [name, layer] of Object.entries(tile.layers)) {
    const features = [];
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      const out = { id: f.id, type: f.type, properties: f.properties, bbox: f.bbox() };
      if (f.type === 3) {
        out.rings = f.loadGeometry().map(ringArea);
      }
      features.push(out);
    }
    layers[name] = { version: layer.version, extent: layer.extent, features };
  }
  return layers;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node e2e/decode-tile.mjs TILE.mvt [TILE.mvt ...]');
  process.exit(2);
}
for (const file of files) {
  process.stdout.write(JSON.stringify({ file, layers: decode(file) }) + '\n');
}
