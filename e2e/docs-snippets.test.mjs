// The developers' page's map snippets run as written: each (MapLibre GL JS, Leaflet with
// Leaflet.VectorGrid, OpenLayers from its ES modules) is copied from /docs as the page shows it
// (with this server's address), saved as a page of another origin and opened. The CDN (unpkg)
// is answered from e2e/node_modules, at the versions the snippets name; the tiles come from the
// server under test, across origins. Each map must fetch a buildings tile that decodes to
// buildings, and draw them: pixels of the building colour appear, which a run without the
// buildings does not show.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { BASE, launch, newPage } from './helpers.mjs';
import { decodePNG, distance, hexRGB } from './pixels.mjs';

const MODULES = fileURLToPath(new URL('./node_modules/', import.meta.url));
// The origin the snippets are served from: not the server's, as on a developer's own site. The
// pages get Chromium's local network access permission, as a user grants it to a site that
// calls a server on their own machine (here, the server under test on the loopback).
const SITE = 'https://snippets.example';
const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.map': 'application/json' };
const BUILDING = '#e9a23b'; // the building fill of the Leaflet and OpenLayers snippets

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// cdn answers https://unpkg.com/PACKAGE@VERSION/PATH from e2e/node_modules/PACKAGE/PATH, and
// refuses a version other than the one installed, so that the snippets name what is tested.
async function cdn(route) {
  const u = new URL(route.request().url());
  const m = /^\/((?:@[^/]+\/)?[^@/]+)@([^/]+)\/(.+)$/.exec(u.pathname);
  const file = m && path.join(MODULES, m[1], m[3]);
  if (!file || !existsSync(file)) {
    await route.fulfill({ status: 404, body: `not in e2e/node_modules: ${u.pathname}` });
    return;
  }
  const { version } = JSON.parse(readFileSync(path.join(MODULES, m[1], 'package.json'), 'utf8'));
  if (m[2] !== version) {
    await route.fulfill({ status: 404, body: `${m[1]}@${m[2]}: e2e/node_modules has ${version}` });
    return;
  }
  await route.fulfill({
    status: 200,
    contentType: TYPES[path.extname(file)] || 'application/octet-stream',
    headers: { 'Access-Control-Allow-Origin': '*' },
    body: readFileSync(file),
  });
}

// snippet returns the text of a snippet as /docs shows it.
async function snippet(id) {
  const page = await newPage(browser);
  await page.goto(`${BASE}/docs`);
  await page.waitForLoadState('load');
  const text = await page.locator(`#${id}`).textContent();
  await page.context().close();
  return text;
}

// run opens html as a page of SITE and returns the buildings it got in tiles, a screenshot, the
// errors it logged and the CDN requests that failed. withoutLayer, when set, is a style layer
// taken out of /styles/city.json first.
async function run(name, html, { withoutLayer } = {}) {
  const page = await newPage(browser);
  const ctx = page.context();
  await ctx.grantPermissions(['local-network-access'], { origin: SITE });
  await ctx.route('https://unpkg.com/**', cdn);
  await ctx.route(`${SITE}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
  if (withoutLayer) {
    await ctx.route(`${BASE}/styles/city.json`, async (route) => {
      const res = await route.fetch();
      const style = await res.json();
      style.layers = style.layers.filter((l) => l.id !== withoutLayer);
      await route.fulfill({ response: res, json: style });
    });
  }
  let buildings = 0;
  const tiles = [];
  const failed = [];
  ctx.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
  ctx.on('response', async (res) => {
    const url = res.url();
    if (res.status() >= 400) failed.push(`${res.status()} ${url}`);
    if (!url.startsWith(`${BASE}/tiles/`) || !/buildings/.test(url) || !/\.(mvt|pbf)/.test(url)) return;
    tiles.push(url);
    try {
      const tile = new VectorTile(new PbfReader(await res.body()));
      buildings += tile.layers.buildings?.length || 0;
    } catch { /* a tile cut short by the map moving on */ }
  });
  await page.goto(`${SITE}/${name}.html`);
  await page.waitForLoadState('networkidle', { timeout: 60000 });
  await page.waitForTimeout(1500); // the last tiles drawn
  const png = await page.screenshot();
  const errors = page.errors;
  await ctx.close();
  return { buildings, tiles, img: decodePNG(png), errors, failed };
}

// near counts the pixels within tol of one of the colours.
function near(img, colours, tol) {
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const p = img.pixel(x, y);
      if (colours.some((c) => distance(p, c) <= tol)) n++;
    }
  }
  return n;
}

const cases = [
  { name: 'maplibre', id: 'snippet-maplibre' },
  { name: 'leaflet', id: 'snippet-leaflet' },
  { name: 'openlayers', id: 'snippet-openlayers' },
];

for (const c of cases) {
  test(`the ${c.name} snippet is a page that runs as written and draws the buildings`, async () => {
    const html = await snippet(c.id);
    assert.match(html, /^<!doctype html>/, 'the snippet is not a complete page');
    assert.ok(html.includes('<div id="map"'), 'the snippet has no map element');
    assert.ok(!html.includes('citytwin.example'), 'a placeholder address is left in the snippet');
    assert.ok(html.includes(BASE), 'the snippet does not name this server');

    const got = await run(c.name, html);
    assert.deepEqual(got.errors, [], `${c.name}: errors in the page`);
    assert.deepEqual(got.failed, [], `${c.name}: failed requests`);
    assert.ok(got.tiles.length > 0, `${c.name}: no buildings tile was fetched`);
    assert.ok(got.buildings > 0, `${c.name}: the buildings tiles it fetched hold no buildings (${got.tiles.join(', ')})`);

    if (c.name === 'maplibre') {
      // The city style colours buildings by use; the same page without the buildings layer is
      // the control: the building colours must cover many more pixels with it than without.
      const style = await (await fetch(`${BASE}/styles/city.json`)).json();
      const layer = style.layers.find((l) => l.id === 'buildings-3d');
      const colours = JSON.stringify(layer.paint).match(/#[0-9a-f]{6}/gi).map(hexRGB);
      const control = await run(c.name, html, { withoutLayer: 'buildings-3d' });
      const with_ = near(got.img, colours, 40);
      const without = near(control.img, colours, 40);
      console.log(`maplibre: ${with_} building-coloured pixels, ${without} without the buildings layer`);
      assert.ok(with_ - without >= 2000, `maplibre: ${with_} building-coloured pixels, ${without} without the buildings layer`);
    } else {
      // The snippet's own building colour, opaque or at 80 % over Leaflet's grey or white.
      const b = hexRGB(BUILDING);
      const colours = [b, ...[[221, 221, 221], [255, 255, 255]].map((u) => b.map((v, i) => 0.8 * v + 0.2 * u[i]))];
      const n = near(got.img, colours, 30);
      console.log(`${c.name}: ${n} building-coloured pixels`);
      assert.ok(n >= 2000, `${c.name}: ${n} pixels of the building colour`);
    }
  });
}
