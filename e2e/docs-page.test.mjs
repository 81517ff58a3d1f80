// The developers' page's "Open in QGIS and GDAL" section: it renders in English and in
// Romanian, its URLs carry this server's address, and every link in it — each layer's
// GeoJSON, CSV and GeoPackage download, the DCAT-AP catalogue — answers 200.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('/docs shows how to open the city in QGIS and GDAL, with downloads that answer 200', async () => {
  const page = await newPage(browser, { lang: 'en' });
  await page.goto(`${BASE}/docs`);
  await page.waitForLoadState('load');
  const section = page.locator('#open-data');
  await section.getByRole('heading', { level: 2, name: 'Open in QGIS and GDAL' }).waitFor();

  const text = await section.innerText();
  for (const s of ['Add WFS / OGC API - Features Layer', `${BASE}/ogc`, `${BASE}/tiles/buildings/{z}/{x}/{y}.mvt`,
    `ogrinfo OAPIF:${BASE}/ogc`, `ogr2ogr -f GPKG out.gpkg OAPIF:${BASE}/ogc buildings`]) {
    assert.ok(text.includes(s), `the section does not say ${s}`);
  }
  assert.ok(!text.includes('citytwin.example'), 'a placeholder address is left in the section');

  const hrefs = await section.locator('a').evaluateAll((as) => as.map((a) => a.href));
  const downloads = hrefs.filter((h) => h.includes('/downloads/'));
  // 10 layers × 3 formats.
  assert.equal(downloads.length, 30, `download links: ${downloads.join(', ')}`);
  for (const ext of ['geojson', 'csv', 'gpkg']) {
    assert.ok(downloads.includes(`${BASE}/downloads/buildings.${ext}`), `no buildings.${ext} link`);
  }
  const local = hrefs.filter((h) => h.startsWith(BASE));
  assert.ok(local.includes(`${BASE}/catalog.dcat.jsonld`), 'no link to the DCAT-AP catalogue');
  for (const href of local) {
    const res = await page.request.get(href);
    assert.equal(res.status(), 200, `GET ${href}`);
  }

  // A download link is named with its layer for screen readers.
  const name = await section.getByRole('link', { name: 'Buildings, GeoPackage' }).count();
  assert.equal(name, 1, 'the buildings GeoPackage link is not named with its layer');

  await page.getByRole('button', { name: 'RO', exact: true }).click();
  await section.getByRole('heading', { level: 2, name: 'Deschideți în QGIS și GDAL' }).waitFor();
  assert.equal(await section.getByRole('link', { name: 'Clădiri, GeoPackage' }).count(), 1);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
