// axe-core reports no WCAG 2.0/2.1 level A or AA violation on /, /planner and /docs, in
// English and in Romanian.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newPage, waitReady, axe } from './helpers.mjs';

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
