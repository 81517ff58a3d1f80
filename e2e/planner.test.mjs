// The planner's workspace: sign in with the planner token, create a scenario, see an API
// validation message beside its field, draw a residential building on the map, run, and see
// the residents increase in the dashboard by dwellings × 2.5; the variant's tiles show the
// building as added; compare with a clone; export CSV. Writes
// docs/screenshots/planner-dashboard.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKEN, launch, newPage, waitReady, waitIdle, axe, screenshotPath, api } from './helpers.mjs';

let browser;
const created = [];
before(async () => { browser = await launch(); });
after(async () => {
  for (const id of created) {
    try { await api(`/api/scenarios/${id}`, { method: 'DELETE' }); } catch { /* already gone */ }
  }
  await browser?.close();
});

test('a wrong token is refused with a message', { skip: !TOKEN && 'CITYTWIN_PLANNER_TOKEN is not set' }, async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/planner`);
  await page.fill('#token', 'not-the-token');
  await page.click('#login button[type=submit]');
  await page.locator('#token-error').filter({ hasText: /./ }).waitFor();
  assert.equal(await page.getAttribute('#token', 'aria-invalid'), 'true');
  assert.ok(await page.isHidden('#workspace'));
  // The 401 of the wrong token is an expected console message of the browser, not an error of ours.
  assert.deepEqual(page.errors.filter((e) => !/401/.test(e)), []);
  await page.context().close();
});

test('a planner adds a building, runs the scenario and sees residents increase', { skip: !TOKEN && 'CITYTWIN_PLANNER_TOKEN is not set' }, async () => {
  const page = await newPage(browser, { width: 1400, height: 1000 });
  await page.goto(`${BASE}/planner`);
  await page.fill('#token', TOKEN);
  await page.click('#login button[type=submit]');
  await page.locator('#workspace').waitFor({ state: 'visible' });
  await waitReady(page);

  // Create a scenario.
  const name = `E2E housing ${new Date().toISOString().slice(0, 19)}`;
  await page.fill('#sc-name', name);
  await page.fill('#sc-desc', 'A residential block added by the browser test.');
  await page.click('#new-scenario button[type=submit]');
  await page.locator('#current').waitFor({ state: 'visible' });
  const id = await page.locator('#scenario-list li.current').getAttribute('data-id');
  assert.ok(id);
  created.push(id);
  assert.match(await page.locator('#current-title').innerText(), new RegExp(name.slice(0, 10)));

  // Without a shape the API refuses the change and names the geometry: the message shows there.
  await page.selectOption('#change-kind', 'add_building');
  await page.selectOption('#prop-use', 'residential');
  await page.fill('#prop-floors', '6');
  await page.click('#change-submit');
  await page.locator('#geometry-error').filter({ hasText: /./ }).waitFor();
  assert.equal(await page.getAttribute('#coords', 'aria-invalid'), 'true');

  // Draw a footprint by clicking four corners around the map centre, then finish the shape.
  await page.evaluate(() => window.map.jumpTo({ zoom: 17 }));
  await waitIdle(page);
  await page.click('#draw-start');
  const box = await page.locator('#map canvas').boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  for (const [dx, dy] of [[-30, -20], [30, -20], [30, 20], [-30, 20]]) {
    await page.mouse.click(cx + dx, cy + dy);
    await page.waitForTimeout(80);
  }
  await page.click('#draw-finish');
  const corners = (await page.inputValue('#coords')).trim().split('\n');
  assert.equal(corners.length, 4, 'four corners in the coordinates field');

  await page.fill('#prop-height_m', '19.5');
  await page.fill('#prop-dwellings', '40');
  await page.click('#change-submit');
  await page.locator('#change-list li[data-kind="add_building"]').waitFor();
  assert.equal(await page.locator('#form-error').innerText(), '');

  // Run: residents rise by 40 dwellings × 2.5 persons = 100.
  await page.click('#run');
  const kpi = page.locator('.kpi[data-indicator="residents"]');
  await kpi.waitFor({ timeout: 30000 });
  const diff = Number(await kpi.getAttribute('data-diff'));
  const base = Number(await kpi.getAttribute('data-baseline'));
  const variant = Number(await kpi.getAttribute('data-variant'));
  assert.ok(diff > 0, `residents did not increase: ${diff}`);
  assert.equal(diff, 100, 'residents + 40 dwellings × 2.5');
  assert.equal(variant - base, diff);
  assert.match(await kpi.innerText(), /▲\s*\+100/);
  assert.ok(await page.locator('.bars li[data-indicator="access_school"]').count() === 1, 'no access bars');

  // The variant's tiles show the new building as added.
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['cv-buildings'] }).some((f) => f.properties.change === 'added'), null, { timeout: 20000 });
  await waitIdle(page);
  await page.evaluate(() => { document.querySelector('#panel').scrollTop = 0; window.scrollTo(0, 0); });
  await page.screenshot({ path: screenshotPath('planner-dashboard.png'), fullPage: true });

  const violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));

  // A violation's row zooms the map to its feature and outlines it.
  const firstViolation = page.locator('table.violations tbody button').first();
  if (await firstViolation.count()) {
    await firstViolation.click();
    await page.waitForFunction(() => document.querySelector('#map').dataset.highlight && !window.map.isMoving(), null, { timeout: 10000 });
    assert.ok(await page.evaluate(() => window.map.getZoom()) >= 15, 'the map did not zoom to the violation');
  }

  // Export the run as CSV.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-export="csv"]')]);
  assert.match(download.suggestedFilename(), /\.csv$/);

  // Clone it and compare the two side by side.
  await page.locator(`#scenario-list li[data-id="${id}"] button`, { hasText: 'Clone' }).click();
  await page.waitForFunction((old) => {
    const li = document.querySelector('#scenario-list li.current');
    return li && li.dataset.id !== old;
  }, id);
  const cloneId = await page.locator('#scenario-list li.current').getAttribute('data-id');
  assert.notEqual(cloneId, id);
  created.push(cloneId);
  await page.check(`#cmp-${id}`);
  await page.check(`#cmp-${cloneId}`);
  await page.click('#compare');
  const cmp = page.locator('#compare-body table');
  await cmp.waitFor();
  assert.equal(await cmp.locator('thead th').count(), 4, 'indicator, baseline and two scenarios');

  assert.deepEqual(page.errors.filter((e) => !/422|400/.test(e)), []);
  await page.context().close();
});
