// axe-core reports no WCAG 2.0/2.1 level A or AA violation on /, /planner and /docs, in
// English and in Romanian.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newPage, waitReady, axe, api } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const pages = [
  { path: '/', map: true },
  { path: '/planner', map: true },
  { path: '/docs', map: false },
];

for (const p of pages) {
  test(`${p.path} has no axe A/AA violations, in English and in Romanian`, async () => {
    const page = await newPage(browser, { lang: 'en' });
    await page.goto(BASE + p.path);
    if (p.map) await waitReady(page);
    else await page.waitForLoadState('load');
    for (const lang of ['en', 'ro']) {
      if (lang !== 'en') await page.getByRole('button', { name: lang.toUpperCase(), exact: true }).click();
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      const violations = await axe(page);
      assert.deepEqual(violations, [], `${lang}: ${JSON.stringify(violations, null, 2)}`);
    }
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('the public map on a phone, with a popup and a legend open, has no axe A/AA violations', async () => {
  const page = await newPage(browser, { width: 320, height: 640 });
  await page.goto(`${BASE}/`);
  await waitReady(page);
  await page.check('#layer-noise');
  await page.click('#near-centre');
  await page.locator('#near-results li').first().waitFor();
  await page.focus('#map canvas');
  await page.keyboard.press('Enter');
  const violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
  await page.context().close();
});

// The phone's sheet in both languages with everything open at once: a popup listing several
// features, the numbered nearest facilities, the walk and its markers, a layer's opacity
// slider, the attribution unfolded; then the sheet folded.
test('the public map on a 360 px phone with a popup, the walk, the near list and the attribution open has no axe A/AA violations, in English and in Romanian', async () => {
  for (const lang of ['en', 'ro']) {
    const page = await newPage(browser, { width: 360, height: 740, lang });
    // A school of the demo city, on a parcel: the popup lists both.
    const { features } = await api('/api/features/facilities?bbox=7.40,43.72,7.45,43.76&limit=1000', { token: '' });
    const [lon, lat] = features.find((f) => f.properties.kind === 'school').geometry.coordinates;
    await page.goto(`${BASE}/#map=18.00/${lat}/${lon}&layers=buildings,facilities,green_spaces,parcels&lang=${lang}`);
    await waitReady(page);
    await page.click('#near-centre');
    await page.locator('#near-results li[data-marker]').first().waitFor({ timeout: 10000 });
    await page.focus('#map canvas');
    await page.keyboard.press('Enter');
    await page.locator('.maplibregl-popup .also-list').waitFor();
    await page.click('.maplibregl-popup .walk-here');
    await page.locator('#walk-results li[data-kind]').first().waitFor({ timeout: 15000 });
    await page.click('.maplibregl-ctrl-attrib-button');
    let violations = await axe(page);
    assert.deepEqual(violations, [], `${lang}: ${JSON.stringify(violations, null, 2)}`);
    await page.click('#panel-toggle');
    assert.equal(await page.getAttribute('#panel-toggle', 'aria-expanded'), 'false');
    violations = await axe(page);
    assert.deepEqual(violations, [], `${lang}, sheet folded: ${JSON.stringify(violations, null, 2)}`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});
