// The public map at /: loads without console errors and draws the city, a click shows the
// right attributes, the language switch works and is remembered, the keyboard reaches the layer
// panel, 3D works, "what is near here" answers in text, a phone's 320 px fit, and the first
// view stays under 1 MB besides the tiles. Writes docs/screenshots/map-2d.png, map-3d.png and
// map-phone.png. The colours test reads the map's pixels: buildings, a park and a facility
// must show in their layers' colours, flat and extruded. The place search finds a street and the
// schools by typing, is a keyboard combobox, and flies the map to the chosen hit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newPage, waitReady, waitIdle, screenshotPath, api, axe } from './helpers.mjs';
import { decodePNG, medianRGB, hexRGB, cssRGB, blend, distance, hsv, hueGap, rgbText, drawnAt, bareAt } from './pixels.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const isTile = (url) => /\.mvt(\?|$)/.test(url);

test('the public map loads, draws the city, and the first view is under 1 MB besides tiles', async () => {
  const page = await newPage(browser);
  const sizes = [];
  page.on('requestfinished', async (req) => {
    try {
      const s = await req.sizes();
      sizes.push({ url: req.url(), bytes: s.responseBodySize + s.responseHeadersSize });
    } catch { /* request gone */ }
  });
  await page.goto(`${BASE}/`);
  await waitReady(page);

  const drawn = await page.evaluate(() => ({
    all: window.map.queryRenderedFeatures().length,
    buildings: window.map.queryRenderedFeatures({ layers: ['ct-buildings'] }).length,
    facilities: window.map.queryRenderedFeatures({ layers: ['ct-facilities'] }).length,
  }));
  assert.ok(drawn.all > 0, 'queryRenderedFeatures is empty');
  assert.ok(drawn.buildings > 0, 'no building drawn');
  await page.screenshot({ path: screenshotPath('map-2d.png') });

  // The OpenStreetMap attribution is on the page, the map's own control included.
  const attribution = await page.locator('.maplibregl-ctrl-attrib').innerText();
  assert.match(attribution, /OpenStreetMap/);
  assert.match(await page.locator('footer').innerText(), /OpenStreetMap/);

  await page.waitForTimeout(300);
  const nonTile = sizes.filter((s) => !isTile(s.url));
  const total = nonTile.reduce((a, s) => a + s.bytes, 0);
  const tiles = sizes.length - nonTile.length;
  console.log(`first view: ${nonTile.length} requests, ${(total / 1024).toFixed(0)} KiB besides ${tiles} tiles`);
  assert.ok(total < 1_000_000, `first view transferred ${total} bytes besides tiles`);
  assert.ok(tiles > 0, 'no tile was requested');

  assert.deepEqual(page.errors, [], 'console errors on the public map');
  await page.context().close();
});

// Tolerances of the pixel checks, in Euclidean RGB distance (0–255 a channel):
// - FLAT_TOLERANCE: a flat fill or a circle is its style colour blended at its opacity over
//   what is under it, give or take the rounding of 8-bit blending in software WebGL (measured:
//   under 1); 12 leaves room and still tells legend colours apart (the closest two building
//   colours, commercial and health, blended at 0.9 over the background, are 30.6 apart).
// - VISIBLE: whatever the style says, a drawn feature must differ from what is under it by at
//   least this much; opacity 0, or a colour lost in the background, falls under it (the
//   faintest legend colour, private green #b5dca6 at 0.7 over the background, is 66.5 away).
// - HUE_TOLERANCE: in 3D the light shades roofs and walls (it scales the colour, keeping its
//   hue) and the extrusion lets 10 % of what is behind it through, so a pixel of an extruded
//   building keeps its colour's hue to within a few degrees (measured: at most 1°). Some uses'
//   hues are closer than that (residential 36°, culture 30°): which colour a building has is
//   checked on the style against the legend, the pixels check that it is drawn in it.
const FLAT_TOLERANCE = 12;
const VISIBLE = 40;
const HUE_TOLERANCE = 15;

// mapPixels photographs the map's canvas as the user sees it and decodes the PNG.
async function mapPixels(page) {
  return decodePNG(await page.locator('#map canvas').screenshot());
}

// legendColours are the swatch colours the layer panel shows for a layer.
async function legendColours(page, name) {
  const css = await page.locator(`#layer-${name}-legend .swatch`).evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  return css.map(cssRGB);
}

// useColours are the buildings legend's colours of the given uses, found by the legend's
// labels in the page's language (a use the legend does not name is left out).
async function useColours(page, uses) {
  const css = await page.evaluate(async (wanted) => {
    const app = document.querySelector('script[type=module][src$="/app.js"]').src;
    const { t } = await import(app.replace(/app\.js$/, 'i18n.js'));
    const byLabel = Object.fromEntries([...document.querySelectorAll('#layer-buildings-legend li')]
      .map((li) => [li.textContent.trim(), getComputedStyle(li.querySelector('.swatch')).backgroundColor]));
    return Object.fromEntries(wanted.filter((u) => byLabel[t(`val.use.${u}`)]).map((u) => [u, byLabel[t(`val.use.${u}`)]]));
  }, uses);
  return Object.fromEntries(Object.entries(css).map(([u, c]) => [u, cssRGB(c)]));
}

// checkUseColour: a building of a use the legend lists has that use's colour in the style.
// Says whether the legend lists the building's use.
function checkUseColour(what, sm, byUse) {
  const want = byUse[sm.props?.use];
  if (!want) return false;
  assert.ok(distance(want, sm.colour) < 1, `${what}: use ${sm.props.use} is drawn ${rgbText(sm.colour)}, the legend says ${rgbText(want)}`);
  return true;
}

test('the map draws buildings, a park and a facility in their layers\' colours, flat and in 3D', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/`);
  await waitReady(page);
  // Close enough that buildings are tens of pixels wide.
  await page.evaluate(() => window.map.jumpTo({ zoom: 17 }));
  await waitIdle(page);

  // The background the map draws on is the one of the city's style.
  const style = await api('/styles/city.json', { token: '' });
  const bgLayer = style.layers.find((l) => l.type === 'background');
  assert.ok(bgLayer, '/styles/city.json has no background layer');
  const bg = hexRGB(bgLayer.paint['background-color']);

  // The features, from the API, in view.
  const bbox = (await page.evaluate(() => window.map.getBounds().toArray().flat())).join(',');
  const features = async (layer) => (await api(`/api/features/${layer}?bbox=${bbox}&limit=1000`, { token: '' })).features;
  const [buildings, parks, facilities] = await Promise.all([features('buildings'), features('green_spaces'), features('facilities')]);

  const flat = {
    buildings: await page.evaluate(drawnAt, { features: buildings, layer: 'ct-buildings', colourProp: 'fill-color', opacityProp: 'fill-opacity' }),
    green_spaces: await page.evaluate(drawnAt, { features: parks, layer: 'ct-green', colourProp: 'fill-color', opacityProp: 'fill-opacity', max: 2 }),
    facilities: await page.evaluate(drawnAt, { features: facilities, layer: 'ct-facilities', colourProp: 'circle-color', opacityProp: 'circle-opacity', max: 4 }),
  };
  const bare = await page.evaluate(bareAt, { max: 3 });
  assert.ok(flat.buildings.length >= 3, `only ${flat.buildings.length} buildings of ${buildings.length} can be sampled`);
  assert.ok(flat.green_spaces.length >= 1, `no green space of ${parks.length} can be sampled`);
  assert.ok(flat.facilities.length >= 1, `no facility of ${facilities.length} can be sampled`);
  assert.ok(bare.length >= 1, 'no bare background in view');

  const img = await mapPixels(page);
  for (const p of bare) {
    const got = medianRGB(img, p.x, p.y);
    assert.ok(distance(got, bg) <= FLAT_TOLERANCE, `background at (${p.x}, ${p.y}) is ${rgbText(got)}, the style's is ${rgbText(bg)}`);
  }
  const uses = [...new Set(buildings.map((f) => f.properties.use).filter(Boolean))];
  const byUse = await useColours(page, uses);
  assert.ok(Object.keys(byUse).length >= 3, `the buildings legend names only ${Object.keys(byUse)} of the uses in view, ${uses}`);
  const report = [];
  const checked = {};
  for (const [name, samples] of Object.entries(flat)) {
    const legend = await legendColours(page, name);
    for (const sm of samples) {
      const what = `${name} ${sm.id} at (${sm.x.toFixed(0)}, ${sm.y.toFixed(0)})`;
      // The style's colour is one the legend shows.
      assert.ok(legend.some((c) => distance(c, sm.colour) < 1), `${what}: style colour ${rgbText(sm.colour)} is not in the legend`);
      if (name === 'buildings' && checkUseColour(what, sm, byUse)) checked.use = (checked.use || 0) + 1;
      const got = medianRGB(img, sm.x, sm.y);
      // What the feature is drawn over: the bare background for polygons (drawnAt sees to it);
      // for a circle, what shows just outside it, the same all round.
      let under = bg;
      if (sm.radius !== undefined) {
        const r = sm.radius + 4;
        const around = [[r, 0], [-r, 0], [0, r], [0, -r]].map(([dx, dy]) => medianRGB(img, sm.x + dx, sm.y + dy));
        if (around.some((c) => distance(c, around[0]) > FLAT_TOLERANCE)) continue; // on an edge of what is under it
        under = [0, 1, 2].map((i) => around.reduce((a, c) => a + c[i], 0) / around.length);
      }
      const want = blend(sm.colour, sm.opacity, under);
      report.push(`${what}: ${rgbText(got)}, expected ${rgbText(want)} (${rgbText(sm.colour)} at ${sm.opacity} over ${rgbText(under)}), ${distance(got, want).toFixed(1)} apart`);
      checked[name] = (checked[name] || 0) + 1;
      assert.ok(distance(got, under) >= VISIBLE, `${what} is not drawn: ${rgbText(got)} is what is under it, ${rgbText(under)}`);
      assert.ok(distance(got, want) <= FLAT_TOLERANCE, `${what} is ${rgbText(got)}, expected ${rgbText(want)}`);
    }
  }
  assert.ok(checked.facilities >= 1, 'no facility sits on a uniform ground');
  assert.ok(checked.use >= 1, 'no sampled building has a use the legend names');

  // 3D: the extruded buildings, in the colours of their use, lit.
  await page.check('#toggle-3d');
  await page.waitForFunction(() => window.map.getPitch() > 55 && !window.map.isMoving(), null, { timeout: 10000 });
  await waitIdle(page);
  const lifted = (await page.evaluate(drawnAt, {
    features: buildings, layer: 'ct-buildings-3d', colourProp: 'fill-extrusion-color', opacityProp: 'fill-extrusion-opacity', extruded: true, max: 12,
  })).filter((sm) => hsv(sm.colour)[1] >= 0.35).slice(0, 5); // hue is meaningful for saturated colours only
  assert.ok(lifted.length >= 3, `only ${lifted.length} extruded buildings of a saturated colour can be sampled`);
  const img3d = await mapPixels(page);
  const legend = await legendColours(page, 'buildings');
  for (const sm of lifted) {
    const what = `extruded building ${sm.id} at (${sm.x.toFixed(0)}, ${sm.y.toFixed(0)})`;
    assert.ok(legend.some((c) => distance(c, sm.colour) < 1), `${what}: style colour ${rgbText(sm.colour)} is not in the legend`);
    checkUseColour(what, sm, byUse);
    const got = medianRGB(img3d, sm.x, sm.y);
    const [hueGot, satGot] = hsv(got);
    const [hueWant, satWant] = hsv(sm.colour);
    report.push(`${what}: ${rgbText(got)}, colour ${rgbText(sm.colour)} at ${sm.opacity}, hue ${hueGot.toFixed(0)}° vs ${hueWant.toFixed(0)}°, saturation ${satGot.toFixed(2)} vs ${satWant.toFixed(2)}`);
    assert.ok(distance(got, bg) >= VISIBLE, `${what} is not drawn: ${rgbText(got)} is the background ${rgbText(bg)}`);
    assert.ok(hueGap(hueGot, hueWant) <= HUE_TOLERANCE, `${what} is ${rgbText(got)}, hue ${hueGot.toFixed(0)}°; its colour ${rgbText(sm.colour)} has hue ${hueWant.toFixed(0)}°`);
    assert.ok(satGot >= satWant / 2, `${what} is ${rgbText(got)}, washed out: saturation ${satGot.toFixed(2)}, its colour's ${satWant.toFixed(2)}`);
  }
  console.log(report.join('\n'));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a click on a building shows a popup with its attributes', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/`);
  await waitReady(page);
  // Zoom in a little so that buildings are large enough to hit.
  await page.evaluate(() => window.map.jumpTo({ zoom: Math.max(window.map.getZoom(), 16.5) }));
  await waitIdle(page);

  // Find a building whose inner point shows that building on top (no facility over it).
  const target = await page.evaluate(() => {
    const m = window.map;
    const canvas = m.getCanvas();
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    const rings = (g) => (g.type === 'Polygon' ? [g.coordinates[0]] : g.type === 'MultiPolygon' ? g.coordinates.map((p) => p[0]) : []);
    for (const f of m.queryRenderedFeatures({ layers: ['ct-buildings'] })) {
      for (const ring of rings(f.geometry)) {
        const pts = ring.map((c) => m.project(c));
        const xs = pts.map((p) => p.x);
        const ys = pts.map((p) => p.y);
        const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
        if (x1 - x0 < 14 || y1 - y0 < 14) continue;
        // Try a few points inside the box, centre first.
        for (const [fx, fy] of [[0.5, 0.5], [0.4, 0.5], [0.6, 0.5], [0.5, 0.4], [0.5, 0.6], [0.35, 0.35], [0.65, 0.65]]) {
          const x = x0 + (x1 - x0) * fx;
          const y = y0 + (y1 - y0) * fy;
          if (x < 60 || y < 60 || x > w - 120 || y > h - 60) continue;
          const hits = m.queryRenderedFeatures([[x - 8, y - 8], [x + 8, y + 8]], { layers: ['ct-facilities', 'ct-air'] });
          if (hits.length) continue;
          const top = m.queryRenderedFeatures([x, y], { layers: ['ct-buildings'] });
          if (top.length && top[0].id === f.id) {
            const ll = m.unproject([x, y]);
            return { x, y, id: f.id, props: f.properties, lng: ll.lng, lat: ll.lat };
          }
        }
      }
    }
    return null;
  });
  assert.ok(target, 'no clickable building found');
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.click(box.x + target.x, box.y + target.y);

  const popup = page.locator('.maplibregl-popup .feature-info');
  await popup.waitFor({ state: 'visible', timeout: 10000 });
  assert.equal(await popup.getAttribute('data-layer'), 'buildings');
  assert.equal(await popup.getAttribute('data-id'), String(target.id));
  const shown = await popup.evaluate((el) => Object.fromEntries([...el.querySelectorAll('dd[data-field]')].map((dd) => [dd.dataset.field, dd.dataset.value])));
  const text = await popup.innerText();

  // The same building from the public feature API.
  const d = 0.0005;
  const fc = await api(`/api/features/buildings?bbox=${target.lng - d},${target.lat - d},${target.lng + d},${target.lat + d}&limit=1000`, { token: '' });
  const feature = fc.features.find((f) => String(f.id) === String(target.id));
  assert.ok(feature, `building ${target.id} is not in /api/features`);
  for (const [k, v] of Object.entries(feature.properties)) {
    assert.ok(k in shown, `popup lacks ${k}`);
    if (typeof v === 'number') assert.ok(Math.abs(Number(shown[k]) - v) < 1e-3 * Math.max(1, Math.abs(v)), `${k}: popup ${shown[k]}, API ${v}`);
    else assert.equal(shown[k], Array.isArray(v) ? v.join(',') : String(v), `${k}`);
  }
  if ('floors' in feature.properties) assert.match(text, /Floors above ground/);
  if ('use' in feature.properties) assert.match(text, /Use/);
  // The same information as text, outside the map.
  assert.equal(await page.locator('#info .feature-info').getAttribute('data-id'), String(target.id));
  // The click also answered "what is near here".
  await page.locator('#near-results li[data-kind="school"]').waitFor({ timeout: 10000 });

  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the language switch changes the UI text and is remembered', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/`);
  await waitReady(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.locator('label[for="layer-buildings"]').innerText(), 'Buildings');
  assert.equal(await page.locator('.layers legend').innerText(), 'Layers');

  await page.getByRole('button', { name: 'RO', exact: true }).click();
  assert.equal(await page.getAttribute('html', 'lang'), 'ro');
  assert.equal(await page.locator('label[for="layer-buildings"]').innerText(), 'Clădiri');
  assert.equal(await page.locator('.layers legend').innerText(), 'Straturi');
  assert.equal(await page.locator('#near-title').innerText(), 'Ce este în apropiere?');
  assert.equal(await page.getByRole('button', { name: 'RO', exact: true }).getAttribute('aria-pressed'), 'true');

  await page.reload();
  await waitReady(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'ro', 'the language is not remembered');
  assert.equal(await page.locator('label[for="layer-buildings"]').innerText(), 'Clădiri');
  await page.getByRole('button', { name: 'EN', exact: true }).click();
  assert.equal(await page.locator('label[for="layer-buildings"]').innerText(), 'Buildings');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('keyboard only: Tab reaches the layer panel, Space toggles a layer, focus is visible', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/`);
  await waitReady(page);
  let reached = null;
  for (let i = 0; i < 20 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => {
      const a = document.activeElement;
      return a && a.closest('#layer-list') && a.matches('input[type=checkbox]') ? a.id : null;
    });
  }
  assert.ok(reached, 'Tab never reached a layer checkbox');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'the focused checkbox shows no outline');

  // Toggle the layer with the keyboard and see the map follow.
  const name = reached.replace('layer-', '');
  const before = await page.evaluate((n) => window.map.getStyle().layers.filter((l) => l.metadata?.panel === n).map((l) => window.map.getLayoutProperty(l.id, 'visibility')), name);
  const checked = await page.isChecked(`#${reached}`);
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked(`#${reached}`), !checked);
  const after = await page.evaluate((n) => window.map.getStyle().layers.filter((l) => l.metadata?.panel === n).map((l) => window.map.getLayoutProperty(l.id, 'visibility')), name);
  assert.notDeepEqual(after, before, 'the map did not follow the checkbox');

  // The map itself: focus the canvas, Enter gives the information at the centre as text.
  await page.focus('#map canvas');
  await page.keyboard.press('Enter');
  await page.locator('#info :is(.feature-info, p)').first().waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('3D view extrudes the buildings; what is near the centre is listed with distances', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/`);
  await waitReady(page);
  await page.evaluate(() => window.map.jumpTo({ zoom: Math.max(window.map.getZoom(), 16) }));
  await page.check('#toggle-3d');
  await page.waitForFunction(() => window.map.getPitch() > 55 && !window.map.isMoving(), null, { timeout: 10000 });
  await waitIdle(page);
  const extruded = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['ct-buildings-3d'] }).length);
  assert.ok(extruded > 0, 'no extruded building drawn');
  await page.evaluate(() => { document.querySelector('#panel').scrollTop = 0; });
  await page.screenshot({ path: screenshotPath('map-3d.png') });

  await page.click('#near-centre');
  const items = page.locator('#near-results li[data-distance]');
  await items.first().waitFor({ timeout: 10000 });
  const listed = await page.locator('#near-results li').evaluateAll((lis) => lis.map((li) => ({ kind: li.dataset.kind, d: li.dataset.distance, text: li.innerText })));
  assert.deepEqual(listed.map((l) => l.kind), ['school', 'clinic', 'pharmacy', 'park', 'citizen_center']);
  for (const l of listed.filter((x) => x.d !== undefined)) assert.match(l.text, /\d.*\b(m|km)\b/);
  assert.equal(await page.locator('#near-results').getAttribute('aria-live'), 'polite');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('on a 320 px phone the pages fit and the map draws', async () => {
  const page = await newPage(browser, { width: 320, height: 640 });
  await page.goto(`${BASE}/`);
  await waitReady(page);
  const fit = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, map: document.querySelector('#map').getBoundingClientRect() }));
  assert.ok(fit.scroll <= 320, `the page is ${fit.scroll} px wide`);
  assert.ok(fit.map.width >= 300 && fit.map.height >= 250, `map is ${fit.map.width}×${fit.map.height}`);
  assert.ok(await page.evaluate(() => window.map.queryRenderedFeatures().length) > 0);
  await page.screenshot({ path: screenshotPath('map-phone.png'), fullPage: false });
  // The other pages fit too. Each is left only once its requests are done: leaving earlier
  // aborts a module still loading, which Chromium reports as a console error.
  await page.waitForLoadState('networkidle');
  for (const p of ['/planner', '/docs']) {
    await page.goto(BASE + p);
    await page.waitForLoadState('networkidle');
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 320, `${p} is ${w} px wide`);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// A street of the demo city: a street in memory mode (the demo's streets), the parcels' postal
// addresses on it in both modes.
const STREET = 'Boulevard des Moulins';

test('the place search: typing a street, arrow down and Enter fly the map to it; Escape closes', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/`);
  await waitReady(page);
  const input = page.locator('#search-q');
  // At the top of the panel: visible on a desktop screen without scrolling.
  const box = await input.boundingBox();
  assert.ok(box && box.y >= 0 && box.y + box.height <= 800, `the search box is at ${JSON.stringify(box)}, below the fold`);
  assert.equal(await input.getAttribute('role'), 'combobox');
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  assert.equal(await input.getAttribute('aria-controls'), 'search-list');

  const { hits } = await api(`/api/search?q=${encodeURIComponent(STREET.toLowerCase())}&limit=1`);
  assert.equal(hits.length, 1);
  assert.match(hits[0].label, new RegExp(`^${STREET}`));
  const [w, s, e, n] = hits[0].bbox;
  const before = await page.evaluate(() => window.map.getCenter().toArray());
  assert.ok(!(before[0] >= w && before[0] <= e && before[1] >= s && before[1] <= n), 'the map already shows the street at its centre: the test would prove nothing');

  await input.focus();
  await page.keyboard.type(STREET.toLowerCase());
  await page.locator('#search-list [role=option]').first().waitFor();
  assert.equal(await input.getAttribute('aria-expanded'), 'true');
  await page.keyboard.press('ArrowDown');
  assert.equal(await input.getAttribute('aria-activedescendant'), 'search-opt-0');
  assert.equal(await page.locator('#search-opt-0').getAttribute('aria-selected'), 'true');
  assert.match(await page.locator('#search-opt-0').innerText(), new RegExp(STREET));
  const violations = await axe(page);
  assert.deepEqual(violations, [], `axe with the list open:\n${JSON.stringify(violations, null, 1)}`);

  await page.keyboard.press('Enter');
  // The centre comes to the hit's extent (padded by a hair for the float rounding of fitBounds).
  const pad = 1e-4;
  await page.waitForFunction(([w, s, e, n]) => {
    const c = window.map.getCenter();
    return !window.map.isMoving() && c.lng >= w && c.lng <= e && c.lat >= s && c.lat <= n;
  }, [w - pad, s - pad, e + pad, n + pad], { timeout: 15000 });
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.locator('#search-list').isHidden(), true);
  assert.equal(await input.inputValue(), hits[0].label);

  // "scoala" (no diacritics) lists schools; Escape closes the list and keeps the text.
  await input.fill('');
  await page.keyboard.type('scoala');
  await page.locator('#search-list [role=option]').first().waitFor();
  const options = await page.locator('#search-list [role=option]').allInnerTexts();
  assert.ok(options.length > 0 && options.every((o) => /school/.test(o)), `scoala listed ${JSON.stringify(options)}`);
  await page.keyboard.press('Escape');
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  assert.equal(await input.inputValue(), 'scoala');

  // In Romanian the box speaks Romanian.
  await page.getByRole('button', { name: 'RO', exact: true }).click();
  assert.equal(await page.locator('label[for="search-q"]').innerText(), 'Stradă, adresă, loc sau dotare');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
