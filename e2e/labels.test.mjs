// The labelled base map: the style's labels are drawn with glyphs this server serves itself
// (no request leaves the server), over the thematic layers, in both languages' pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newPage, waitReady, waitIdle } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// labelsAt jumps the map and returns the names of the labels MapLibre placed in layer.
async function labelsAt(page, layer, view) {
  await page.evaluate((v) => window.map.jumpTo(v), view);
  await waitIdle(page);
  return page.evaluate((l) => window.map.queryRenderedFeatures({ layers: [l] }).map((f) => f.properties.name), layer);
}

test('district names are drawn with the server\'s own glyphs, above the thematic layers', async () => {
  const page = await newPage(browser);
  const requests = [];
  page.on('requestfinished', async (req) => {
    const res = await req.response();
    requests.push({ url: req.url(), status: res?.status() });
  });
  page.on('requestfailed', (req) => requests.push({ url: req.url(), status: 'failed' }));
  await page.goto(`${BASE}/`);
  await waitReady(page);

  const center = await page.evaluate(() => window.map.getCenter().toArray());
  const names = await labelsAt(page, 'districts-label', { center, zoom: 14 });
  assert.ok(names.length > 0 && names.every((n) => typeof n === 'string' && n.length > 0), `district labels placed: ${JSON.stringify(names)}`);

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
