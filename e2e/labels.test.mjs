// The labelled base map: water, streets and the names of places and streets, drawn with glyphs
// this server serves itself (no request leaves the server), over the thematic layers. Writes
// docs/screenshots/map-labels.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newPage, waitReady, waitIdle, screenshotPath } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// labelsAt jumps the map and returns the names of the labels MapLibre placed in layer.
async function labelsAt(page, layer, view) {
  await page.evaluate((v) => window.map.jumpTo(v), view);
  await waitIdle(page);
  return page.evaluate((l) => window.map.queryRenderedFeatures({ layers: [l] }).map((f) => f.properties.name), layer);
}

// La Condamine, between the harbour and the Rock: streets, quays and the harbour's water.
const CONDAMINE = [7.4215, 43.7355];

test('places, streets and water are drawn and named with the server\'s own glyphs, above the thematic layers', async () => {
  const page = await newPage(browser);
  const requests = [];
  page.on('requestfinished', async (req) => {
    const res = await req.response();
    requests.push({ url: req.url(), status: res?.status() });
  });
  page.on('requestfailed', (req) => requests.push({ url: req.url(), status: 'failed' }));
  await page.goto(`${BASE}/`);
  await waitReady(page);

  // The quarters at the city's scale, the streets closer in.
  const places = await labelsAt(page, 'places-label', { center: CONDAMINE, zoom: 14 });
  assert.ok(places.includes('Monte-Carlo') && places.includes('Fontvieille'), `place labels placed: ${JSON.stringify(places)}`);
  const streets = await labelsAt(page, 'streets-label', { center: CONDAMINE, zoom: 16.5 });
  assert.ok(streets.includes('Rue Grimaldi'), `street labels placed: ${JSON.stringify(streets)}`);
  const water = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['water-fill'] }).length);
  assert.ok(water > 0, 'the harbour is not drawn as water');
  await page.screenshot({ path: screenshotPath('map-labels.png') });

  const fonts = requests.filter((r) => new URL(r.url).pathname.startsWith('/fonts/'));
  assert.ok(fonts.length > 0, 'no glyphs were requested');
  assert.deepEqual(fonts.filter((r) => r.status !== 200), [], 'glyph requests that failed');
  const elsewhere = requests.filter((r) => new URL(r.url).origin !== new URL(BASE).origin && !r.url.startsWith('data:') && !r.url.startsWith('blob:'));
  assert.deepEqual(elsewhere, [], 'requests to other servers');

  const order = await page.evaluate(() => window.map.getStyle().layers.map((l) => l.type));
  const firstSymbol = order.indexOf('symbol');
  assert.ok(firstSymbol > 0 && order.slice(firstSymbol).every((t) => t === 'symbol'), `layer types bottom to top: ${order.join(',')}`);
  assert.deepEqual(page.errors, [], 'console errors');
  await page.context().close();
});

test('typing a street lists its places over the labelled map (the README\'s search picture)', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/`);
  await waitReady(page);
  await page.evaluate((c) => window.map.jumpTo({ center: c, zoom: 16 }), CONDAMINE);
  await waitIdle(page);
  await page.fill('#search-q', 'Rue Grimaldi');
  const first = page.locator('#search-list [role=option]').first();
  await first.waitFor();
  assert.match(await first.innerText(), /Rue Grimaldi/);
  await page.screenshot({ path: screenshotPath('map-search.png') });
  assert.deepEqual(page.errors, [], 'console errors');
  await page.context().close();
});
