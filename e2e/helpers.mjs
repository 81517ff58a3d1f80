// Shared setup of the browser tests: the server under test (CITYTWIN_URL), the planner token
// (CITYTWIN_PLANNER_TOKEN), where screenshots go (CITYTWIN_E2E_SCREENSHOTS), Debian's Chromium
// through playwright-core (never a downloaded browser), console-error collection, axe-core and
// a CSV reader.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const BASE = (process.env.CITYTWIN_URL || '').replace(/\/+$/, '');
export const TOKEN = process.env.CITYTWIN_PLANNER_TOKEN || '';
// Screenshots go to docs/screenshots (the README's pictures) unless CITYTWIN_E2E_SCREENSHOTS
// names another folder, as the run against PostGIS does.
export const SCREENSHOTS = process.env.CITYTWIN_E2E_SCREENSHOTS || fileURLToPath(new URL('../docs/screenshots', import.meta.url));
mkdirSync(SCREENSHOTS, { recursive: true });

if (!BASE) {
  throw new Error('set CITYTWIN_URL to the base URL of a running `citytwin serve` (e.g. http://127.0.0.1:8080)');
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--enable-unsafe-swiftshader', '--use-angle=swiftshader'],
  });
}

// Harmless messages of Chromium's software WebGL.
const NOISE = [/GPU stall due to ReadPixels/i, /GL Driver Message/i, /WebGL.*performance/i, /Automatic fallback to software WebGL/i];

// newPage opens a page that records console errors and uncaught exceptions in page.errors.
// geolocation ({latitude, longitude}) is the position the page's navigator.geolocation gives.
export async function newPage(browser, { width = 1280, height = 800, locale = 'en-GB', lang = 'en', geolocation } = {}) {
  const context = await browser.newContext({
    viewport: { width, height }, locale, deviceScaleFactor: 1,
    ...(geolocation ? { geolocation, permissions: ['geolocation'] } : {}),
  });
  if (lang) {
    await context.addInitScript((l) => {
      try { if (!localStorage.getItem('citytwin.lang')) localStorage.setItem('citytwin.lang', l); } catch { /* no storage */ }
    }, lang);
  }
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (NOISE.some((re) => re.test(text))) return;
    page.errors.push(`console: ${text} ${msg.location()?.url || ''}`);
  });
  page.on('pageerror', (err) => page.errors.push(`pageerror: ${err.message}`));
  return page;
}

// waitReady waits for the map page's first idle (window.ready) and for any later rendering to
// settle.
export async function waitReady(page, timeout = 60000) {
  await page.waitForFunction(() => window.ready === true, null, { timeout });
  await waitIdle(page);
}

export async function waitIdle(page, timeout = 30000) {
  await page.evaluate((ms) => new Promise((resolve, reject) => {
    const m = window.map;
    const timer = setTimeout(() => reject(new Error('map did not become idle')), ms);
    const done = () => { clearTimeout(timer); resolve(); };
    if (m.loaded() && m.areTilesLoaded() && !m.isMoving()) {
      // One more frame, in case a change was just queued.
      m.once('idle', done);
      m.triggerRepaint();
    } else m.once('idle', done);
  }), timeout);
}

// axe runs axe-core's WCAG 2.0/2.1 A and AA rules on the page and returns the violations.
// The script is evaluated through the DevTools protocol, as the pages' Content-Security-Policy
// (script-src 'self') rightly refuses an injected <script>.
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export async function axe(page) {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`) }));
  });
}

export function screenshotPath(name) {
  return path.join(SCREENSHOTS, name);
}

// api calls the server from the test process.
export async function api(pathname, { method = 'GET', body, token = TOKEN } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(BASE + pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${pathname}: ${res.status} ${text.slice(0, 300)}`);
  return data;
}

// parseCSV reads RFC 4180 CSV: fields in double quotes may hold commas, line breaks and
// doubled quotes (""); lines end in LF or CRLF. Returns the rows as arrays of strings.
export function parseCSV(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new Error('parseCSV: a quoted field is not closed');
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}
