// The planner's workspace: sign in with the planner token, create a scenario, see an API
// validation message beside its field, draw a residential building taller than the zone allows
// on the map, run, and see the residents increase in the dashboard by dwellings × 2.5 × the
// census factor and the building's height violation listed; the variant's tiles show the
// building as added; the exported CSV holds the run's values; a clone compares side by side
// with the values of the API. Every indicator shows the source and the walking distance the
// run gives it, and the data quality panel the census and shares of /api/quality, in English
// and in Romanian. Writes docs/screenshots/planner-dashboard.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { BASE, TOKEN, launch, newPage, waitReady, waitIdle, axe, screenshotPath, api, parseCSV } from './helpers.mjs';

let browser;
const created = [];
before(async () => { browser = await launch(); });
after(async () => {
  for (const id of created) {
    try { // a delete needs If-Match: the scenario's ETag, its version in quotes
      const { version } = await api(`/api/scenarios/${id}`);
      await fetch(`${BASE}/api/scenarios/${id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}`, 'If-Match': `"${version}"` } });
    } catch { /* already gone */ }
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

  // 40 floors and 120 m: more than any zone of the demo city allows (at most 15 floors and 50 m),
  // so the run must report the building.
  await page.fill('#prop-floors', '40');
  await page.fill('#prop-height_m', '120');
  await page.fill('#prop-dwellings', '40');
  await page.click('#change-submit');
  await page.locator('#change-list li[data-kind="add_building"]').waitFor();
  assert.equal(await page.locator('#form-error').innerText(), '');
  const { changes } = await api(`/api/scenarios/${id}/changes`);
  const added = changes.find((c) => c.kind === 'add_building');
  assert.ok(added?.feature_id, `no added building among the changes: ${JSON.stringify(changes)}`);
  const feature = `buildings/${added.feature_id}`;

  // Run: residents rise by 40 dwellings × the persons of an occupied dwelling × the share of
  // dwellings occupied (the run's parameters: 2.2 × 5/6 by default), times the census factor of
  // the building's district. The demo city's census has one city-total row, so every district
  // has the same factor (38,350 / the model's residents) in memory; a city without a census
  // (the PostGIS import) has factor 1.
  const census = (await api('/api/quality', { token: '' })).census;
  const factors = [...new Set((census?.districts || []).map((d) => d.factor))];
  assert.ok(factors.length <= 1, `the districts have different census factors: ${factors}`);
  const factor = factors[0] ?? 1;
  const ran = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/api/scenarios/${id}/run`));
  await page.click('#run');
  const runId = (await (await ran).json()).id;
  assert.ok(runId, 'the run answered no id');
  const run = await api(`/api/scenarios/${id}/runs/${runId}`);
  const perDwelling = run.parameters.persons_per_dwelling * run.parameters.occupied_dwelling_share;
  const rise = 40 * perDwelling * factor;
  const kpi = page.locator('.kpi[data-indicator="residents"]');
  await kpi.waitFor({ timeout: 30000 });
  const diff = Number(await kpi.getAttribute('data-diff'));
  const base = Number(await kpi.getAttribute('data-baseline'));
  const variant = Number(await kpi.getAttribute('data-variant'));
  assert.ok(diff > 0, `residents did not increase: ${diff}`);
  assert.ok(Math.abs(diff - rise) < 1e-6, `residents + 40 dwellings × ${perDwelling} × ${factor} = ${rise}, the dashboard ${diff}`);
  assert.equal(variant - base, diff);
  assert.deepEqual({ baseline: base, variant, diff }, run.indicators.residents, 'the dashboard shows other residents than the run');
  assert.match(await kpi.innerText(), new RegExp(`▲\\s*\\+${Math.round(rise)}\\b`));
  assert.ok(await page.locator('.bars li[data-indicator="access_school"]').count() === 1, 'no access bars');

  // The variant's tiles show the new building as added.
  await page.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['cv-buildings'] }).some((f) => f.properties.change === 'added'), null, { timeout: 20000 });
  await waitIdle(page);
  await page.evaluate(() => { document.querySelector('#panel').scrollTop = 0; window.scrollTo(0, 0); });
  await page.screenshot({ path: screenshotPath('planner-dashboard.png'), fullPage: true });

  const violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));

  // The run reports the building's height as a new violation, and the dashboard lists it.
  const height = run.violations.find((v) => v.feature === feature && v.rule === 'max_height_m');
  assert.ok(height, `the run reports no height violation of ${feature}: ${JSON.stringify(run.violations.filter((v) => v.new))}`);
  assert.equal(height.value, 120);
  assert.ok(height.limit < 120 && height.new === true, JSON.stringify(height));
  const rows = page.locator(`table.violations tbody tr[data-feature="${feature}"]`);
  assert.ok(await rows.count() >= 1, `the dashboard lists no violation of ${feature}`);
  // Its row zooms the map to the building and outlines it.
  await page.evaluate(() => window.map.jumpTo({ zoom: 12 }));
  await rows.first().locator('button').click();
  await page.waitForFunction((f) => document.querySelector('#map').dataset.highlight === f && !window.map.isMoving(), feature, { timeout: 10000 });
  assert.ok(await page.evaluate(() => window.map.getZoom()) >= 15, 'the map did not zoom to the violation');

  // Export the run as CSV: the file holds the run's values.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-export="csv"]')]);
  assert.equal(download.suggestedFilename(), `run-${runId}.csv`);
  checkRunCSV(parseCSV(await readFile(await download.path(), 'utf8')), run, feature);

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
  // The table shows the API's comparison, and the comparison agrees with the run: the clone
  // has the same building.
  const answer = await api(`/api/scenarios/compare?ids=${id},${cloneId}`);
  for (const sc of [id, cloneId]) {
    assert.equal(answer.indicators.residents[sc], run.indicators.residents.variant, `compared residents of ${sc}`);
  }
  assert.equal(answer.indicators.residents.baseline, run.indicators.residents.baseline);
  await checkComparison(page, cmp, answer);

  assert.deepEqual(page.errors.filter((e) => !/422|400/.test(e)), []);
  await page.context().close();
});

// The words the dashboard must show for a run's `sources` and `distance_methods`, written out
// here rather than read from the page's dictionary, so that a wrong word or a wrong mapping fails.
const SOURCE_WORDS = {
  en: { 'census-calibrated': 'census', surveyed: 'surveyed', modelled: 'modelled' },
  ro: { 'census-calibrated': 'recensământ', surveyed: 'măsurat', modelled: 'modelat' },
};
// detour is the run's detour factor as the language writes it (1.25 → "1.25" / "1,25").
const DISTANCE_WORDS = {
  en: { network: () => 'on the street network', straight: (detour) => (detour ? `straight line ×${detour}` : 'straight line') },
  ro: { network: () => 'pe rețeaua de străzi', straight: (detour) => (detour ? `în linie dreaptă ×${detour}` : 'în linie dreaptă') },
};
// Only the access to facilities and the 15-minute city lengthen the straight line by the
// detour factor (docs/domain.md, "Distances"); green access, Wi-Fi and digital help do not.
const usesDetour = (k) => k.startsWith('access_') || k === 'fifteen_minute_city';
const QUALITY_WORDS = {
  en: { title: 'Data quality', census: /^Census used: /, partial: /^Census used for part of the city only: /, none: /^No census/ },
  ro: { title: 'Calitatea datelor', census: /^Recensământul folosit: /, partial: /^Recensământ folosit doar pentru o parte a orașului: /, none: /^Fără recensământ/ },
};

test('each indicator shows its source and distance in words, and the data quality panel shows /api/quality, in English and in Romanian', { skip: !TOKEN && 'CITYTWIN_PLANNER_TOKEN is not set' }, async () => {
  const page = await newPage(browser, { width: 1400, height: 1000 });
  await page.goto(`${BASE}/planner`);
  await page.fill('#token', TOKEN);
  await page.click('#login button[type=submit]');
  await page.locator('#workspace').waitFor({ state: 'visible' });
  await waitReady(page);

  await page.fill('#sc-name', `E2E sources ${new Date().toISOString().slice(0, 19)}`);
  await page.click('#new-scenario button[type=submit]');
  await page.locator('#current').waitFor({ state: 'visible' });
  const id = await page.locator('#scenario-list li.current').getAttribute('data-id');
  assert.ok(id);
  created.push(id);
  const ran = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/api/scenarios/${id}/run`));
  await page.click('#run');
  const runId = (await (await ran).json()).id;
  assert.ok(runId, 'the run answered no id');
  const run = await api(`/api/scenarios/${id}/runs/${runId}`);
  const indicators = Object.keys(run.indicators).sort();
  assert.ok(indicators.length > 20, `too few indicators: ${indicators}`);
  assert.deepEqual(Object.keys(run.sources).sort(), indicators, 'the run gives no source for some indicator');
  assert.ok(Object.keys(run.distance_methods).length >= 8, 'the run gives too few distance methods');
  const quality = await api('/api/quality', { token: '' });

  for (const lang of ['en', 'ro']) {
    await page.getByRole('button', { name: lang.toUpperCase(), exact: true }).click();
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    const rows = page.locator('table.ind-table tbody tr');
    await rows.first().waitFor({ state: 'attached', timeout: 30000 });
    await page.locator('details.all-indicators summary').click();
    const seen = await rows.evaluateAll((trs) => trs.map((tr) => {
      const badge = tr.querySelector('.src-badge');
      const dist = tr.querySelector('.dist-method');
      const about = badge && document.getElementById(badge.getAttribute('aria-describedby') || '');
      return {
        k: tr.dataset.indicator, badge: badge?.textContent, about: about?.textContent || '',
        dist: dist?.textContent ?? null, method: dist?.dataset.method ?? null,
      };
    }));
    assert.deepEqual(seen.map((r) => r.k).sort(), indicators, `${lang}: the table's indicators`);
    const detour = String(run.parameters.detour_factor).replace('.', lang === 'ro' ? ',' : '.');
    for (const r of seen) {
      const src = run.sources[r.k];
      assert.equal(r.badge, SOURCE_WORDS[lang][src], `${lang}: source of ${r.k} (the run says ${src})`);
      assert.ok(r.about.startsWith(`${SOURCE_WORDS[lang][src]}:`), `${lang}: the badge of ${r.k} is described by ${JSON.stringify(r.about)}`);
      const m = run.distance_methods[r.k];
      if (!m) {
        assert.equal(r.dist, null, `${lang}: ${r.k} is no access indicator, yet shows a distance`);
        continue;
      }
      assert.equal(r.method, m, `${lang}: distance method of ${r.k}`);
      assert.equal(r.dist, DISTANCE_WORDS[lang][m](usesDetour(r.k) && detour), `${lang}: distance words of ${r.k}`);
    }
    // The headline cards show the same source words.
    const cards = await page.locator('.kpi').evaluateAll((ks) => ks.map((c) => [c.dataset.indicator, c.querySelector('.src-badge')?.textContent]));
    assert.ok(cards.length >= 4, 'too few headline cards');
    for (const [k, word] of cards) assert.equal(word, SOURCE_WORDS[lang][run.sources[k]], `${lang}: source on the card of ${k}`);

    await checkQuality(page, quality, lang);
    const violations = await axe(page);
    assert.deepEqual(violations, [], `${lang}: ${JSON.stringify(violations, null, 2)}`);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// checkQuality compares the data quality panel with GET /api/quality: the census (years and
// sources, or none), every layer's feature count and surveyed and derived shares as shown
// (a percentage with one decimal, in the language's notation), the key attributes' surveyed,
// derived and missing shares, and the modelled indicators.
async function checkQuality(page, q, lang) {
  const words = QUALITY_WORDS[lang];
  assert.equal(await page.locator('#quality-title').innerText(), words.title);
  const census = (await page.locator('#quality-census').innerText()).trim();
  if (!q.census?.loaded) {
    assert.match(census, words.none);
  } else {
    assert.match(census, q.census.complete ? words.census : words.partial);
    assert.ok(q.census.years.length > 0, 'a loaded census without a year');
    for (const y of q.census.years) assert.ok(census.includes(String(y)), `${lang}: census year ${y} not in ${JSON.stringify(census)}`);
    for (const s of q.census.sources) assert.ok(census.includes(s), `${lang}: census source ${s} not in ${JSON.stringify(census)}`);
  }

  const rows = await page.locator('table.quality-layers tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.dataset.layer, ...[...tr.querySelectorAll('td')].map((td) => td.innerText)]));
  assert.deepEqual(rows.map((r) => r[0]).sort(), Object.keys(q.layers).sort(), `${lang}: the panel's layers`);
  // pct reads "35.7 %" (en) or "35,7 %" (ro) as 35.7.
  const pct = (text) => {
    const m = /^(\d+)(?:[.,](\d))? %$/.exec(text.replace(/\u00a0/g, ' ').trim());
    assert.ok(m, `${lang}: ${JSON.stringify(text)} is no percentage`);
    return Number(`${m[1]}.${m[2] || 0}`);
  };
  for (const [layer, features, surveyed, derived] of rows) {
    const l = q.layers[layer];
    assert.equal(Number(features.replace(/\D/g, '')), l.features, `${lang}: features of ${layer}`);
    if (!l.features) continue;
    // One decimal: within half a tenth of a percent of the API's share.
    assert.ok(Math.abs(pct(surveyed) - l.surveyed_share * 100) <= 0.05 + 1e-9, `${lang}: ${layer} surveyed ${surveyed}, the API ${l.surveyed_share}`);
    assert.ok(Math.abs(pct(derived) - l.derived_share * 100) <= 0.05 + 1e-9, `${lang}: ${layer} derived ${derived}, the API ${l.derived_share}`);
  }

  // The key attributes: surveyed, derived and missing shares of every attribute the API counts.
  const attrs = await page.locator('table.quality-attributes tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.dataset.layer, tr.dataset.attribute, ...[...tr.querySelectorAll('td')].map((td) => td.innerText)]));
  const want = Object.entries(q.layers).flatMap(([l, v]) => Object.keys(v.attributes || {}).map((a) => `${l}/${a}`)).sort();
  assert.deepEqual(attrs.map(([l, a]) => `${l}/${a}`).sort(), want, `${lang}: the panel's key attributes`);
  for (const [layer, a, ...shares] of attrs) {
    const c = q.layers[layer].attributes[a];
    [c.surveyed_share, c.derived_share, c.missing_share].forEach((share, i) => {
      assert.ok(Math.abs(pct(shares[i]) - share * 100) <= 0.05 + 1e-9, `${lang}: ${layer} ${a} column ${i + 1} shows ${shares[i]}, the API ${share}`);
    });
  }

  const modelled = await page.locator('#quality-modelled li').evaluateAll((lis) => lis.map((li) => li.dataset.indicator));
  assert.deepEqual(modelled, q.modelled_indicators, `${lang}: the modelled indicators`);
}

// checkRunCSV compares the rows of a run's CSV export with the run's JSON: every indicator of
// the city and of each district (baseline, variant, difference), and the violations.
function checkRunCSV(rows, run, feature) {
  assert.deepEqual(rows[0], ['section', 'area', 'indicator', 'baseline', 'variant', 'diff']);
  const indicators = new Map(rows.filter((r) => r[0] === 'indicator').map((r) => [`${r[1]}/${r[2]}`, r.slice(3).map(Number)]));
  const residents = indicators.get('city/residents');
  assert.ok(residents, 'the CSV has no residents row for the city');
  assert.deepEqual(residents, [run.indicators.residents.baseline, run.indicators.residents.variant, run.indicators.residents.diff], 'residents in the CSV');
  const want = [
    ...Object.entries(run.indicators).map(([k, v]) => [`city/${k}`, v]),
    ...(run.districts || []).flatMap((d) => Object.entries(d.indicators).map(([k, v]) => [`${d.name}/${k}`, v])),
  ];
  for (const [key, v] of want) {
    assert.deepEqual(indicators.get(key), [v.baseline, v.variant, v.diff], `CSV row ${key}`);
  }
  assert.equal(indicators.size, want.length, 'the CSV has indicator rows the run has not');

  const head = rows.findIndex((r) => r[0] === 'section' && r[1] === 'feature');
  assert.deepEqual(rows[head], ['section', 'feature', 'rule', 'value', 'limit', 'new'], 'the violations header');
  const violations = rows.slice(head + 1).filter((r) => r.length > 1);
  assert.equal(violations.length, run.violations.length, 'violation rows');
  const height = violations.find((r) => r[1] === feature && r[2] === 'max_height_m');
  assert.ok(height, `the CSV lists no height violation of ${feature}`);
  const v = run.violations.find((x) => x.feature === feature && x.rule === 'max_height_m');
  assert.deepEqual(height.slice(3).map((x, i) => (i < 2 ? Number(x) : x)), [v.value, v.limit, String(v.new)]);
}

// checkComparison reads the comparison table as text and checks every number against the API's
// answer: the baseline and each scenario's value with its difference from the baseline, as shown
// (rounded to the digits the cell shows; shares in %, their differences in percentage points),
// and each scenario's violations.
async function checkComparison(page, table, answer) {
  const keys = Object.keys(answer.indicators);
  // The row labels and units in the page's language, from its own dictionary.
  const words = await page.evaluate(async (ks) => {
    const app = document.querySelector('script[type=module][src$="/planner.js"]').src;
    const { t, has } = await import(app.replace(/planner\.js$/, 'i18n.js'));
    return {
      labels: Object.fromEntries(ks.map((k) => [has(`ind.${k}`) ? t(`ind.${k}`) : k.replace(/_/g, ' '), k])),
      pct: t('unit.pct', { v: '' }).trim(),
      pp: t('unit.pp', { v: '' }).trim(),
      violations: t('dash.violations'),
    };
  }, keys);
  const scenarios = answer.scenarios.map((sc) => sc.id);
  assert.deepEqual(await table.locator('thead th').allInnerTexts().then((h) => h.slice(2)), answer.scenarios.map((sc) => sc.name || sc.id));

  // number reads an en-GB number ("71,260", "−1.5", "45.3 %") and how far rounding may have
  // moved it: half a unit of its last digit.
  const number = (text) => {
    const m = /([+−-]?)(\d[\d,]*)(?:\.(\d+))?/.exec(text);
    assert.ok(m, `no number in ${JSON.stringify(text)}`);
    const sign = m[1] === '−' || m[1] === '-' ? -1 : 1;
    const digits = m[3] ? m[3].length : 0;
    return { n: sign * Number(`${m[2].replace(/,/g, '')}.${m[3] || 0}`), slack: 0.5 * 10 ** -digits + 1e-9 };
  };
  const near = (text, want, scale, what) => {
    const { n, slack } = number(text);
    assert.ok(Math.abs(n - want * scale) <= slack, `${what}: the table shows ${JSON.stringify(text)}, the API ${want}`);
  };

  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th').innerText, ...[...tr.querySelectorAll('td')].map((td) => td.innerText)]));
  const seen = new Set();
  for (const [label, base, ...cells] of rows) {
    if (label === words.violations) {
      cells.forEach((c, i) => assert.equal(number(c).n, answer.scenarios[i].violations, `violations of ${scenarios[i]}`));
      seen.add('violations');
      continue;
    }
    const key = words.labels[label];
    assert.ok(key, `row ${label} is no indicator of the API's answer`);
    seen.add(key);
    const row = answer.indicators[key];
    const share = base.includes(words.pct);
    near(base, row.baseline, share ? 100 : 1, `${key} baseline`);
    cells.forEach((cell, i) => {
      const [, value, diff] = /^(.*)\((.*)\)$/.exec(cell) || [];
      assert.ok(value, `${key}: cell ${JSON.stringify(cell)} has no difference in brackets`);
      near(value, row[scenarios[i]], share ? 100 : 1, `${key} of ${scenarios[i]}`);
      if (share) assert.ok(diff.trim() === '0' || diff.includes(words.pp), `${key}: difference ${diff} is not in percentage points`);
      near(diff, row[scenarios[i]] - row.baseline, share ? 100 : 1, `${key} difference of ${scenarios[i]}`);
    });
  }
  for (const k of ['residents', 'dwellings', 'violations']) assert.ok(seen.has(k), `the comparison has no ${k} row`);
}
