// The public map at /: loads without console errors and draws the city, a click shows the
// right attributes, the language switch works and is remembered, the keyboard reaches the layer
// panel, 3D works, "what is near here" answers in text, a phone's 320 px fit, and the first
// view stays under 1 MB besides the tiles. Writes docs/screenshots/map-2d.png, map-3d.png and
// (with the walk on a 360 px phone) map-phone.png. The colours test reads the map's pixels: buildings, a park and a facility
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
  // The modelled flag is a note on the feature, not a row.
  if ('derived' in feature.properties) assert.equal(await popup.getAttribute('data-modelled'), String(feature.properties.derived));
  for (const [k, v] of Object.entries(feature.properties)) {
    if (k === 'derived') continue;
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

// ---------------------------------------------------------------------------------------------
// The map people use: on a phone and on a desktop, in Romanian and in English. Each test below
// checks one of the map's promises: the map stays in view while one works with it (1), popups
// speak plainly (2), a location outside the city is said to be so (3), Romanian everywhere and
// one word for modelled data, with an opacity per layer (4), the URL keeps what is shown (5),
// and the walk of 5, 10 or 15 minutes (6).
const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 800 };
const VIEWPORTS = [['phone', PHONE], ['desktop', DESKTOP]];

// settle waits until the map has stopped moving and drawn what it moved to.
async function settle(page) {
  await page.waitForFunction(() => !window.map.isMoving(), null, { timeout: 15000 });
  await waitIdle(page);
}

const rectOf = (page, sel) => page.locator(sel).first().evaluate((e) => {
  const r = e.getBoundingClientRect();
  return { top: r.top, left: r.left, bottom: r.bottom, right: r.right, width: r.width, height: r.height };
});
const inside = (a, b, tol = 1) => a.top >= b.top - tol && a.left >= b.left - tol && a.bottom <= b.bottom + tol && a.right <= b.right + tol;
const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

// assertInView: the element is wholly on screen, and so is the map, at least 250 px high.
async function assertInView(page, sel, what) {
  const vp = await page.evaluate(() => ({ top: 0, left: 0, bottom: window.innerHeight, right: window.innerWidth }));
  const map = await rectOf(page, '#map');
  assert.ok(inside(map, vp) && map.height >= 250, `${what}: the map is at ${JSON.stringify(map)}, not wholly on the ${vp.right}×${vp.bottom} screen`);
  if (sel) {
    const r = await rectOf(page, sel);
    assert.ok(inside(r, vp), `${what}: ${sel} is at ${JSON.stringify(r)}, off the screen`);
  }
}

// mapModule imports one of the page's own modules (the same instances the page runs).
const pageModule = (page, file) => page.evaluate(async (f) => {
  const app = document.querySelector('script[type=module][src$="/app.js"]').src;
  window.__mods = window.__mods || {};
  window.__mods[f] = await import(app.replace(/app\.js$/, f));
}, file);

// pointsWith finds screen points of the map (relative to its canvas) where features of layer
// are drawn, with how many features the map reports there, near each of the given heights
// (shares of the map's height).
async function pointsWith(page, layer, shares) {
  await pageModule(page, 'mapbase.js');
  return page.evaluate(({ layer, shares }) => {
    const m = window.map;
    const { featuresAt } = window.__mods['mapbase.js'];
    const Point = m.project([0, 0]).constructor;
    const w = m.getCanvas().clientWidth;
    const h = m.getCanvas().clientHeight;
    const out = [];
    for (const share of shares) {
      let found = null;
      for (let dy = 0; dy < h * 0.12 && !found; dy += 6) {
        for (const y of [h * share - dy, h * share + dy]) {
          for (let x = 40; x < w - 60 && !found; x += 7) {
            const fs = featuresAt(m, new Point(x, y));
            if (fs.length && fs[0].sourceLayer === layer) found = { x, y, n: fs.length, id: fs[0].id };
          }
        }
      }
      if (found) out.push({ share, ...found });
    }
    return out;
  }, { layer, shares });
}

async function clickMap(page, p) {
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.click(box.x + p.x, box.y + p.y);
}

for (const [vpName, vp] of VIEWPORTS) {
  test(`1. ${vpName}: the map stays in view while one ticks a layer, asks what is near, shows it, searches, and opens popups`, async () => {
    const page = await newPage(browser, vp);
    await page.goto(`${BASE}/`);
    await waitReady(page);
    await assertInView(page, null, 'at first');

    await page.check('#layer-noise');
    await assertInView(page, '#layer-noise', 'after ticking a layer');

    await page.click('#near-centre');
    const first = page.locator('#near-results li[data-distance]').first();
    await first.waitFor({ timeout: 10000 });
    await page.waitForTimeout(100); // the sheet scrolls the results into view
    await assertInView(page, '#near-results li[data-distance]', 'the nearest facilities');

    // "Show on map" moves a map one can see.
    const before = await page.evaluate(() => window.map.getCenter().toArray());
    await first.getByRole('button').click();
    await settle(page);
    const after = await page.evaluate(() => window.map.getCenter().toArray());
    assert.notDeepEqual(after, before, 'Show on map did not move the map');
    await assertInView(page, null, 'after Show on map');

    // A search hit: the map that flies there is on screen, and so is the search box.
    await page.fill('#search-q', STREET);
    await page.locator('#search-list [role=option]').first().waitFor();
    await assertInView(page, '#search-list', 'the places found');
    // …and not under anything else: each option shown is what is on top at its middle.
    const covered = await page.locator('#search-list [role=option]').evaluateAll((lis) => lis.filter((li) => {
      const r = li.getBoundingClientRect();
      return !li.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2));
    }).map((li) => li.textContent));
    assert.deepEqual(covered, [], 'places found hidden under the panel');
    await page.keyboard.press('Enter');
    await settle(page);
    await assertInView(page, '#search-q', 'after a search');

    // Popups near the top, the middle and the bottom of the map open wholly inside it.
    await page.evaluate(() => window.map.jumpTo({ zoom: 17.5 }));
    await settle(page);
    const points = await pointsWith(page, 'buildings', [0.12, 0.5, 0.9]);
    assert.ok(points.length >= 2, `buildings found at only ${points.length} heights of the map`);
    for (const p of points) {
      await clickMap(page, p);
      await page.locator('.maplibregl-popup').waitFor();
      await page.waitForTimeout(100);
      await settle(page);
      const popup = await rectOf(page, '.maplibregl-popup-content');
      const map = await rectOf(page, '#map');
      assert.ok(inside(popup, map), `a popup opened at ${Math.round(p.share * 100)} % of the map's height is at ${JSON.stringify(popup)}, outside the map ${JSON.stringify(map)}`);
      await assertInView(page, '.maplibregl-popup-content', 'a popup');
      await page.keyboard.press('Escape');
    }

    if (vpName === 'phone') {
      // The attribution is an icon that hides neither the scale nor the map; it opens on demand.
      const attrib = page.locator('.maplibregl-ctrl-attrib');
      const cls = await attrib.getAttribute('class');
      assert.match(cls, /maplibregl-compact/, 'the attribution is not compact');
      assert.doesNotMatch(cls, /maplibregl-compact-show/, 'the compact attribution starts open');
      const a = await rectOf(page, '.maplibregl-ctrl-attrib');
      const scale = await rectOf(page, '.maplibregl-ctrl-scale');
      assert.ok(a.height <= 40 && a.width <= 40, `the folded attribution is ${a.width}×${a.height}`);
      assert.ok(!overlap(a, scale), 'the attribution covers the scale bar');
      await page.click('.maplibregl-ctrl-attrib-button');
      assert.match(await attrib.innerText(), /OpenStreetMap/);
    } else {
      assert.match(await page.locator('.maplibregl-ctrl-attrib').innerText(), /OpenStreetMap/);
    }
    assert.equal(await page.evaluate(() => window.scrollY), 0, 'the page scrolled');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

// A spot where a facility stands on a parcel (and often a building): several features at one
// point. Returns the facility's point on screen, after the map is centred on it at zoom 18.
async function stackedFacility(page, kind) {
  await page.check('#layer-parcels');
  const { features } = await api(`/api/features/facilities?bbox=7.40,43.72,7.45,43.76&limit=1000`, { token: '' });
  await pageModule(page, 'mapbase.js');
  for (const f of features.filter((x) => !kind || x.properties.kind === kind)) {
    await page.evaluate((c) => window.map.jumpTo({ center: c, zoom: 18, bearing: 0, pitch: 0 }), f.geometry.coordinates);
    await settle(page);
    const here = await page.evaluate(() => {
      const m = window.map;
      const p = m.project(m.getCenter());
      const fs = window.__mods['mapbase.js'].featuresAt(m, p);
      return { x: p.x, y: p.y, n: fs.length, layers: fs.map((g) => g.sourceLayer), id: fs[0]?.id };
    });
    if (here.n >= 2 && here.layers[0] === 'facilities' && here.layers.includes('parcels')) return { ...here, feature: f };
  }
  throw new Error('no facility stands on a parcel');
}

for (const [vpName, vp] of VIEWPORTS) {
  for (const lang of ['en', 'ro']) {
    test(`2. ${vpName}, ${lang}: popups speak plainly, list every feature at the point, and close with their layer; the near list numbers its markers`, async () => {
      const page = await newPage(browser, { ...vp, lang });
      await page.goto(`${BASE}/`);
      await waitReady(page);
      const at = await stackedFacility(page);
      await clickMap(page, at);
      const popup = page.locator('.maplibregl-popup');
      await popup.locator('.feature-info').waitFor();
      const text = await popup.innerText();
      // No database words: no identifier row, no "Modelled data no", no "n more feature(s)".
      assert.doesNotMatch(text, /Identifier|Identificator/, `${lang}: the popup shows an identifier:\n${text}`);
      assert.doesNotMatch(text, /Modelled data|Date modelate|\bderived\b/i, `${lang}: the popup shows the modelled flag as a field:\n${text}`);
      assert.doesNotMatch(text, /feature\(s\)|obiect\(e\)/, `${lang}: the popup counts features it does not show:\n${text}`);
      assert.equal(await popup.locator('[data-field="derived"], [data-field="id"]').count(), 0);
      // Every other feature at the point is listed, and opens.
      const others = popup.locator('.also-list button');
      assert.equal(await others.count(), at.n - 1, `${lang}: ${at.n} features at the point, ${await others.count()} listed besides the first`);
      assert.match(await popup.locator('.also-title').innerText(), lang === 'en' ? /Also at this point/ : /Tot în acest punct/);
      const parcelButton = popup.locator('.also-list button[data-layer="parcels"]');
      await parcelButton.click();
      assert.equal(await popup.locator('.feature-info').getAttribute('data-layer'), 'parcels');
      // The demo's parcels are modelled: one plain sentence says so.
      assert.equal(await popup.locator('.feature-info').getAttribute('data-modelled'), 'true');
      assert.match(await popup.locator('.modelled-note').innerText(), lang === 'en' ? /^Modelled: estimated/ : /^Modelat: estimat/);
      // Hiding the parcels takes the parcel out of the popup; hiding every layer at the point closes it.
      await page.uncheck('#layer-parcels');
      await page.waitForTimeout(100);
      if (await popup.count()) assert.notEqual(await popup.locator('.feature-info').getAttribute('data-layer'), 'parcels', 'the popup still shows a hidden layer');
      for (const l of at.layers) if (await page.isChecked(`#layer-${l}`)) await page.uncheck(`#layer-${l}`);
      await page.waitForTimeout(100);
      assert.equal(await page.locator('.maplibregl-popup').count(), 0, `${lang}: a popup stays open after its layers were hidden`);

      // The nearest facilities: each listed one has a number, the same as its marker's on the map.
      await page.click('#near-centre');
      await page.locator('#near-results li[data-distance]').first().waitFor({ timeout: 10000 });
      const listed = await page.locator('#near-results li[data-marker]').evaluateAll((lis) => lis.map((li) => ({ n: li.dataset.marker, badge: li.querySelector('.num-badge')?.textContent })));
      const markers = await page.locator('#map .num-marker.near').allTextContents();
      assert.ok(listed.length >= 3, `only ${listed.length} numbered facilities`);
      assert.deepEqual(listed.map((l) => l.badge), listed.map((l) => l.n));
      assert.deepEqual(markers, listed.map((l) => l.n), 'the markers on the map do not carry the list\'s numbers');
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });
  }
}

// Bucharest, 44.4268 N 26.1025 E: some 1,500 km from the demo city.
const FAR = { latitude: 44.4268, longitude: 26.1025 };
for (const [vpName, vp] of VIEWPORTS) {
  for (const lang of ['en', 'ro']) {
    test(`3. ${vpName}, ${lang}: "near my location" far from the city says so and leaves the map where it is`, async () => {
      const page = await newPage(browser, { ...vp, lang, geolocation: FAR });
      await page.goto(`${BASE}/`);
      await waitReady(page);
      const before = await page.evaluate(() => ({ c: window.map.getCenter().toArray(), z: window.map.getZoom() }));
      await page.click('#near-locate');
      const notice = page.locator('#near-results .notice');
      await notice.waitFor({ timeout: 10000 });
      const text = await notice.innerText();
      assert.match(text, lang === 'en' ? /outside the area of this map/ : /în afara zonei acestei hărți/);
      // The distance to the city, in km: Bucharest is 1,4xx–1,5xx km from Monaco.
      assert.match(text, /1[.,]?[45]\d\d(?:[.,]\d+)? km/, `no plausible distance in: ${text}`);
      await page.waitForTimeout(1200); // a flight would be under way by now
      const after = await page.evaluate(() => ({ c: window.map.getCenter().toArray(), z: window.map.getZoom(), moving: window.map.isMoving() }));
      assert.deepEqual({ c: after.c, z: after.z, moving: after.moving }, { ...before, moving: false }, 'the map moved away');
      assert.equal(await page.locator('#near-results li').count(), 0, 'facilities are listed for a place outside the city');
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });
  }
}

// English words that have no place on the Romanian page.
const ENGLISH = /\b(the|and|of|near|walk|minutes|pupils|derived|modelled|contributors|features?|Show|Toggle|Close|straight|found|layers?)\b/i;

for (const [vpName, vp] of VIEWPORTS) {
  test(`4. ${vpName}: the Romanian page speaks Romanian everywhere, one word names modelled data, and each layer has an opacity`, async () => {
    const page = await newPage(browser, { ...vp, lang: 'ro' });
    await page.goto(`${BASE}/`);
    await waitReady(page);
    // A school's popup, the nearest facilities and the walk, in Romanian.
    const at = await stackedFacility(page, 'school');
    await clickMap(page, at);
    await page.locator('.maplibregl-popup .feature-info').waitFor();
    const popupText = await page.locator('.maplibregl-popup').innerText();
    assert.match(popupText, /elevi/, `the school's capacity is not in pupils (elevi): ${popupText}`);
    await page.click('#near-centre');
    await page.locator('#near-results li[data-distance]').first().waitFor({ timeout: 10000 });
    if (await page.locator('#walk-centre').count()) {
      await page.click('#walk-centre');
      await page.locator('#walk-results li').first().waitFor({ timeout: 15000 });
    }
    if (vpName === 'phone') await page.click('.maplibregl-ctrl-attrib-button');
    const attribution = await page.locator('.maplibregl-ctrl-attrib').innerText();
    assert.match(attribution, /contribuitorii OpenStreetMap/, `map attribution: ${attribution}`);
    assert.match(attribution, /„modelat”/, `map attribution: ${attribution}`);
    const words = await page.evaluate(() => {
      const attrs = [...document.querySelectorAll('[aria-label], [title], [aria-valuetext], [placeholder]')]
        .flatMap((e) => ['aria-label', 'title', 'aria-valuetext', 'placeholder'].map((a) => e.getAttribute(a)).filter(Boolean));
      return [...document.body.innerText.split('\n'), ...attrs];
    });
    // Names of places are the city's own (French, here); the page's words must be Romanian.
    const names = new Set(await page.locator('#near-results li, #walk-results li').evaluateAll((lis) => lis.flatMap((li) => li.innerText.split(/[,:]/).map((s) => s.trim()))));
    const english = words.map((w) => w.trim()).filter((w) => w && ENGLISH.test(w) && ![...names].some((n) => n && w.includes(n) && !ENGLISH.test(w.replace(n, ''))));
    assert.deepEqual(english, [], 'English on the Romanian page');

    // In English, the flag is "modelled" everywhere: the footer, the map's attribution, the note.
    await page.getByRole('button', { name: 'EN', exact: true }).click();
    const en = await page.evaluate(() => document.body.innerText + [...document.querySelectorAll('.maplibregl-ctrl-attrib-inner')].map((e) => e.textContent).join(' '));
    assert.doesNotMatch(en, /\bderived\b|Modelled data/i, 'the modelled flag goes by another name');
    assert.match(await page.locator('.maplibregl-ctrl-attrib-inner').textContent(), /“modelled”/);

    // Each layer's opacity: a labelled slider the arrow keys move, which the map follows.
    const slider = page.getByRole('slider', { name: 'Opacity of Buildings' });
    await slider.focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft');
    assert.equal(await slider.inputValue(), '70');
    assert.equal(await slider.getAttribute('aria-valuetext'), '70 %');
    // ct-buildings is drawn at 0.9; at 70 %, 0.9 × 0.7 = 0.63.
    const opacity = await page.evaluate(() => window.map.getPaintProperty('ct-buildings', 'fill-opacity'));
    assert.ok(Math.abs(opacity - 0.63) < 1e-9, `buildings drawn at opacity ${opacity}`);
    await page.getByRole('button', { name: 'RO', exact: true }).click();
    assert.equal(await page.getByRole('slider', { name: 'Opacitatea stratului Clădiri' }).inputValue(), '70');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

const hashParam = (page, key) => page.evaluate((k) => new URLSearchParams(location.hash.slice(1)).get(k), key);

for (const [vpName, vp] of VIEWPORTS) {
  test(`5. ${vpName}: a link restores the view, layers, language and the feature shown; the URL follows; Back and Forward step through`, async () => {
    const { features } = await api('/api/features/facilities?bbox=7.40,43.72,7.45,43.76&limit=1000', { token: '' });
    const school = features.find((f) => f.properties.kind === 'school');
    const [lon, lat] = school.geometry.coordinates;
    const page = await newPage(browser, { ...vp, lang: 'en' });
    await page.goto(`${BASE}/#map=18.00/${lat}/${lon}/30/40&layers=buildings,facilities,noise&lang=ro&sel=facilities/${school.id}@${lon},${lat}`);
    await waitReady(page);
    await settle(page);
    const view = await page.evaluate(() => ({ z: window.map.getZoom(), c: window.map.getCenter().toArray(), b: window.map.getBearing(), p: window.map.getPitch() }));
    assert.ok(Math.abs(view.z - 18) < 0.01 && Math.abs(view.b - 30) < 0.5 && Math.abs(view.p - 40) < 0.5, `view ${JSON.stringify(view)}`);
    assert.ok(Math.abs(view.c[0] - lon) < 1e-5 && Math.abs(view.c[1] - lat) < 1e-5, `centre ${view.c}, link ${lon},${lat}`);
    assert.equal(await page.getAttribute('html', 'lang'), 'ro');
    assert.equal(await page.isChecked('#layer-noise'), true);
    assert.equal(await page.isChecked('#layer-green_spaces'), false);
    assert.equal(await page.evaluate(() => window.map.getLayoutProperty('ct-noise', 'visibility')), 'visible');
    assert.equal(await page.evaluate(() => window.map.getLayoutProperty('ct-green', 'visibility')), 'none');
    const popup = page.locator('.maplibregl-popup .feature-info');
    await popup.waitFor({ timeout: 10000 });
    assert.equal(await popup.getAttribute('data-layer'), 'facilities');
    assert.equal(await popup.getAttribute('data-id'), String(school.id));

    // The URL follows the map, the layers and the language.
    await page.keyboard.press('Escape');
    await page.evaluate(() => window.map.jumpTo({ zoom: 16, bearing: 0, pitch: 0 }));
    await settle(page);
    await page.waitForFunction(() => /map=16\.00\//.test(location.hash));
    assert.match(await hashParam(page, 'map'), /^16\.00\/-?\d+\.\d{5}\/-?\d+\.\d{5}$/);
    await page.check('#layer-parcels');
    assert.match(await hashParam(page, 'layers'), /parcels/);
    await page.getByRole('button', { name: 'EN', exact: true }).click();
    assert.equal(await hashParam(page, 'lang'), 'en');

    // Opening a feature is a step of the history: Back closes it, Forward opens it again.
    await page.evaluate((c) => window.map.jumpTo({ center: c, zoom: 18 }), [lon, lat]);
    await settle(page);
    const withoutSel = await page.evaluate(() => location.hash);
    const centre = await page.evaluate(() => { const p = window.map.project(window.map.getCenter()); return { x: p.x, y: p.y }; });
    await clickMap(page, centre);
    await popup.waitFor();
    assert.match(await hashParam(page, 'sel'), new RegExp(`^facilities/${school.id}@`));
    await page.goBack();
    await page.waitForFunction(() => !document.querySelector('.maplibregl-popup'));
    assert.equal(await page.evaluate(() => location.hash), withoutSel);
    await page.goForward();
    await popup.waitFor({ timeout: 10000 });
    assert.equal(await popup.getAttribute('data-id'), String(school.id));
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

// The nearest facility of a kind along the streets, as /api/isochrone answers it.
function nearestWalk(iso, kind) {
  const walks = iso.features.filter((f) => f.geometry.type === 'Point' && f.properties.kind === kind).map((f) => f.properties.walk_m);
  return walks.length ? Math.min(...walks) : null;
}

// checkWalk compares the walk the page shows with the API's answer for the URL's walk=.
async function checkWalk(page, lang) {
  const walkParam = await hashParam(page, 'walk');
  const m = /^(\d+)@(-?[\d.]+),(-?[\d.]+)$/.exec(walkParam || '');
  assert.ok(m, `the URL has no walk: ${walkParam}`);
  const iso = await api(`/api/isochrone?lon=${m[2]}&lat=${m[3]}&minutes=${m[1]}`, { token: '' });
  const items = await page.locator('#walk-results li[data-kind]').evaluateAll((lis) => lis.map((li) => ({ kind: li.dataset.kind, walk: li.dataset.walk, marker: li.dataset.marker, text: li.innerText })));
  assert.deepEqual(items.map((i) => i.kind), ['school', 'clinic', 'pharmacy', 'park']);
  for (const it of items.filter((i) => i.kind !== 'park')) {
    const want = nearestWalk(iso, it.kind);
    if (want === null) assert.equal(it.walk, undefined, `${it.kind}: none within the walk, the page lists one`);
    else {
      assert.equal(Number(it.walk), Math.round(want), `${it.kind}: the page says ${it.walk} m, the API ${want} m`);
      assert.match(it.text, lang === 'en' ? /m on foot/ : /m pe jos/);
    }
  }
  assert.match(await page.locator('#walk-results .walk-head').innerText(), lang === 'en' ? new RegExp(`In ${m[1]} minutes on foot`) : new RegExp(`În ${m[1]} minute pe jos`));
  const drawn = await page.evaluate(() => {
    const src = window.map.getSource('ct-walk');
    return src ? src._data.geojson?.features?.map((f) => f.properties.kind) ?? src._data.features?.map((f) => f.properties.kind) : [];
  });
  assert.ok(drawn.includes('hull') && drawn.includes('reach'), `the walk drawn: ${drawn}`);
  const markers = await page.locator('#map .num-marker.walk').allTextContents();
  assert.deepEqual(markers, items.filter((i) => i.marker).map((i) => i.marker));
  return m;
}

for (const [vpName, vp] of VIEWPORTS) {
  for (const lang of ['en', 'ro']) {
    test(`6. ${vpName}, ${lang}: the walk of 5, 10 or 15 minutes from the map centre, an address found and a clicked point, by keyboard`, async () => {
      const page = await newPage(browser, { ...vp, lang });
      await page.goto(`${BASE}/`);
      await waitReady(page);
      await page.evaluate(() => window.map.jumpTo({ center: [7.4215, 43.7395], zoom: 16 }));
      await settle(page);
      // From the map centre: the keyboard presses the button.
      await page.focus('#walk-centre');
      await page.keyboard.press('Enter');
      await page.locator('#walk-results li[data-kind]').first().waitFor({ timeout: 15000 });
      const fromCentre = await checkWalk(page, lang);
      assert.equal(fromCentre[1], '15');
      // The README's picture of the phone: the map above, the walk listed in the sheet below.
      if (vpName === 'phone' && lang === 'en') {
        await settle(page);
        await page.screenshot({ path: screenshotPath('map-phone.png'), fullPage: false });
      }

      // From an address the search finds, 10 minutes, chosen by keyboard.
      // The first address the search lists on the street, as the page asks for it (limit=10).
      const { hits } = await api(`/api/search?q=${encodeURIComponent(STREET)}&limit=10`, { token: '' });
      const idx = hits.findIndex((h) => h.kind === 'address');
      assert.ok(idx >= 0, `the search finds no address on ${STREET}`);
      const hit = hits[idx];
      const address = hit.label;
      await page.focus('#search-q');
      await page.keyboard.type(STREET);
      await page.locator('#search-list [role=option]').first().waitFor();
      for (let i = 0; i <= idx; i++) await page.keyboard.press('ArrowDown');
      assert.match(await page.locator(`#search-opt-${idx}`).innerText(), new RegExp(`^${address}`));
      await page.keyboard.press('Enter');
      await settle(page);
      await page.focus('input[name="walk-minutes"][value="10"]');
      await page.keyboard.press('Space');
      await page.focus('#walk-chosen');
      await page.keyboard.press('Enter');
      await page.waitForFunction((a) => document.querySelector('#walk-results .walk-head')?.textContent.includes(a), address, { timeout: 15000 });
      const fromAddress = await checkWalk(page, lang);
      assert.equal(fromAddress[1], '10');
      assert.ok(Math.abs(Number(fromAddress[2]) - hit.point[0]) < 1e-6 && Math.abs(Number(fromAddress[3]) - hit.point[1]) < 1e-6, 'the walk does not start at the address');

      // From a point clicked on the map, through its popup's button.
      await settle(page);
      const pts = await pointsWith(page, 'buildings', [0.5]);
      assert.ok(pts.length, 'no building to click');
      await clickMap(page, pts[0]);
      await page.locator('.maplibregl-popup .walk-here').click();
      await page.waitForFunction((a) => !document.querySelector('#walk-results .walk-head')?.textContent.includes(a), address, { timeout: 15000 });
      await page.locator('#walk-results li[data-kind]').first().waitFor({ timeout: 15000 });
      await checkWalk(page, lang);
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });
  }
}
