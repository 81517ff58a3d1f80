// The admin upload page at /admin/import: an admin uploads a zipped Shapefile written by
// ogr2ogr, reads the dry-run report as a table (the owner's name, personal data, is not in
// it), confirms, and the new parcel is served. Needs an admin token of the server under test
// (CITYTWIN_ADMIN_TOKEN, which scripts/test-browser.sh creates); the parcel lies ~15 km
// south-west of Monaco with an id of its own, so the other browser tests do not meet it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BASE, launch, newPage, axe } from './helpers.mjs';

const ADMIN = process.env.CITYTWIN_ADMIN_TOKEN || '';
const ID = 987654321;
const SECRET = 'Eve Secretescu';
let browser;
let dir;
let zip;

before(async () => {
  if (!ADMIN) return;
  dir = mkdtempSync(path.join(tmpdir(), 'citytwin-e2e-import-'));
  const src = path.join(dir, 'parcele.geojson');
  writeFileSync(src, JSON.stringify({
    type: 'FeatureCollection',
    features: [{
      type: 'Feature',
      properties: { id: ID, cad_number: 'E2E-1', owner_name: SECRET },
      // On the water of Port Hercule, inside the city's extent and clear of its parcels: the
      // later browser tests share this database, and a parcel outside the city would move the
      // city's bounds and the centre every TileJSON gives.
      geometry: { type: 'Polygon', coordinates: [[[7.4233, 43.7348], [7.4235, 43.7348], [7.4235, 43.7350], [7.4233, 43.7350], [7.4233, 43.7348]]] },
    }],
  }));
  zip = path.join(dir, 'parcele.shp.zip');
  execFileSync('ogr2ogr', ['-f', 'ESRI Shapefile', zip, src]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function served() {
  const res = await fetch(`${BASE}/api/features/parcels?bbox=7.4232,43.7347,7.4236,43.7351`);
  const fc = await res.json();
  return (fc.features || []).map((f) => f.id);
}

test('an admin uploads a zipped Shapefile, reads the dry run, confirms, and the parcel is served', { skip: !ADMIN && 'set CITYTWIN_ADMIN_TOKEN' }, async () => {
  assert.deepEqual(await served(), [], 'the parcel is there before the import');
  const page = await newPage(browser, { lang: 'en' });
  await page.goto(`${BASE}/admin/import`);
  await page.waitForLoadState('load');
  await page.getByLabel('Admin token').fill(ADMIN);
  await page.getByLabel('File (.zip, .shp, .gpkg, .csv, .geojson)').setInputFiles(zip);
  await page.getByLabel('Layer (without a mapping)').selectOption('parcels');
  // The keyboard submits the form as a click does.
  await page.getByLabel('Rejected features allowed').press('Enter');

  const row = page.locator('#imp-sources tbody tr');
  await row.first().waitFor();
  const cells = await row.first().locator('td').allTextContents();
  assert.equal(cells[3], 'parcels');
  assert.deepEqual(cells.slice(4, 7), ['1', '1', '0'], `read, accepted, rejected: ${cells}`);
  assert.match(cells[7], /owner_name ← owner_name \(restricted\)/);
  assert.match(await page.locator('#status').textContent(), /nothing was written/);
  assert.equal((await page.content()).includes(SECRET), false, 'the report shows the owner\'s name');
  assert.deepEqual(await served(), [], 'the dry run wrote the parcel');

  for (const lang of ['en', 'ro']) {
    if (lang !== 'en') await page.getByRole('button', { name: 'RO', exact: true }).click();
    const violations = await axe(page);
    assert.deepEqual(violations, [], `${lang}: ${JSON.stringify(violations, null, 2)}`);
  }
  await page.getByRole('button', { name: 'EN', exact: true }).click();

  await page.getByRole('button', { name: 'Import for real' }).click();
  await page.locator('#status', { hasText: 'Imported: 1 features written.' }).waitFor();
  const deadline = Date.now() + 15000;
  let ids = [];
  while (Date.now() < deadline) {
    ids = await served();
    if (ids.includes(ID)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(ids, [ID], 'the imported parcel is not served');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
