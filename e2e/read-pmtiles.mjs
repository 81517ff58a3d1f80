// Reads a PMTiles archive with the reference reader (the npm package pmtiles, the one map
// clients use) and prints what it read, for the Go tests of the export package to check.
//
// Usage: node e2e/read-pmtiles.mjs FILE.pmtiles < TILES
// where TILES lists one tile a line as z/x/y. Prints JSON lines: first
//   {"header": {...}, "metadata": {...}, "tilejson": {...}}
// then one line per tile asked for:
//   {"z", "x", "y", "id": the PMTiles tile id, "data": base64 of the decompressed tile | null}
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { PMTiles, zxyToTileId } from 'pmtiles';

// NodeFileSource serves the archive's byte ranges from a local file.
class NodeFileSource {
  constructor(path, handle) {
    this.path = path;
    this.handle = handle;
  }

  getKey() {
    return this.path;
  }

  async getBytes(offset, length) {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.handle.read(buf, 0, length, offset);
    const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + bytesRead);
    return { data };
  }
}

const path = process.argv[2];
if (!path) {
  console.error('usage: node e2e/read-pmtiles.mjs FILE.pmtiles < TILES');
  process.exit(2);
}
const handle = await open(path, 'r');
try {
  const archive = new PMTiles(new NodeFileSource(path, handle));
  const header = await archive.getHeader();
  const metadata = await archive.getMetadata();
  const tilejson = await archive.getTileJson('file://' + path);
  process.stdout.write(JSON.stringify({ header, metadata, tilejson }) + '\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const m = line.trim().match(/^(\d+)\/(\d+)\/(\d+)$/);
    if (!m) {
      continue;
    }
    const [z, x, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const tile = await archive.getZxy(z, x, y);
    const data = tile ? Buffer.from(tile.data).toString('base64') : null;
    process.stdout.write(JSON.stringify({ z, x, y, id: zxyToTileId(z, x, y), data }) + '\n');
  }
} finally {
  await handle.close();
}
