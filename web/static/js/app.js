// The public map at /: layer panel with legends and opacities, 2D/3D, feature information
// (popup and text), "what is near here", the walk of 5, 10 or 15 minutes, a search for places
// (streets, addresses, facilities…), the Romanian/English switch, and a URL that keeps the
// view. On a phone the panel is a sheet under the map, which stays in view.
import { t, initLangSwitch, onLangChange, fmtDistance, setLang, lang, LANGS } from './i18n.js';
import { PANEL, DEFAULT_ON, legendList, featureInfo, featureTitle } from './thematic.js';
import { createCityMap, maplibregl, setPanelLayer, set3D, featuresAt, cityBounds, setPanelOpacity } from './mapbase.js';
import { api, nearest, ApiError } from './api.js';

initLangSwitch();

const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
};

// --- The permalink ---------------------------------------------------------------------------
// The URL's hash holds what is on screen:
//   #map=ZOOM/LAT/LON[/BEARING/PITCH]&layers=a,b&opacity=noise:60&lang=ro
//    &sel=LAYER/ID@LON,LAT (the feature whose popup is open, and where)
//    &walk=MINUTES@LON,LAT (the walk drawn)
// Moving the map or changing a layer replaces the history entry; opening a feature, drawing a
// walk or going to a place found adds one, so Back returns to what was shown before.
const num = (v) => (v === '' || v === null ? NaN : Number(v));
function readHash(hash = location.hash) {
  const q = new URLSearchParams(hash.replace(/^#/, ''));
  const out = {};
  const m = (q.get('map') || '').split('/').map(num);
  if (m.length >= 3 && m.slice(0, 3).every(Number.isFinite) && Math.abs(m[1]) <= 85 && Math.abs(m[2]) <= 180) {
    out.view = { zoom: m[0], center: [m[2], m[1]], bearing: Number.isFinite(m[3]) ? m[3] : 0, pitch: Number.isFinite(m[4]) ? m[4] : 0 };
  }
  if (q.has('layers')) out.layers = q.get('layers').split(',').filter((n) => PANEL.includes(n));
  if (q.has('opacity')) {
    out.opacity = {};
    for (const pair of q.get('opacity').split(',')) {
      const [n, v] = pair.split(':');
      if (PANEL.includes(n) && Number.isFinite(num(v))) out.opacity[n] = Math.max(0, Math.min(100, Number(v)));
    }
  }
  if (LANGS.includes(q.get('lang'))) out.lang = q.get('lang');
  const sel = /^([a-z_]+)\/([^@]+)@(-?[\d.]+),(-?[\d.]+)$/.exec(q.get('sel') || '');
  if (sel) out.sel = { layer: sel[1], id: sel[2], lngLat: { lng: Number(sel[3]), lat: Number(sel[4]) } };
  const walk = /^(\d+)@(-?[\d.]+),(-?[\d.]+)$/.exec(q.get('walk') || '');
  if (walk) out.walk = { minutes: Number(walk[1]), lon: Number(walk[2]), lat: Number(walk[3]) };
  return out;
}

const initial = readHash();
if (initial.lang && initial.lang !== lang()) setLang(initial.lang);

const state = {
  on: new Set(initial.layers ?? DEFAULT_ON),
  opacity: { ...(initial.opacity || {}) },
  is3D: (initial.view?.pitch ?? 0) > 0,
  info: null, // {features, index, lngLat}: what the info box and the popup show
  lastNear: null,
  chosen: null, // {lon, lat, label | labelKey}: where a walk starts
  walk: null, // {lon, lat, minutes, label | labelKey, answer}
};
let map = null;
let restoring = false;
let popup = null;
let closingOurselves = false;

function hashOf() {
  const parts = [];
  if (map) {
    const c = map.getCenter();
    let v = `${map.getZoom().toFixed(2)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`;
    const b = map.getBearing();
    const p = map.getPitch();
    if (Math.abs(b) >= 0.5 || p >= 0.5) v += `/${b.toFixed(0)}/${p.toFixed(0)}`;
    parts.push(`map=${v}`);
  }
  parts.push(`layers=${PANEL.filter((n) => state.on.has(n)).join(',')}`);
  const op = PANEL.filter((n) => state.opacity[n] !== undefined && state.opacity[n] !== 100).map((n) => `${n}:${state.opacity[n]}`);
  if (op.length) parts.push(`opacity=${op.join(',')}`);
  parts.push(`lang=${lang()}`);
  const f = state.info && popup && state.info.features[state.info.index];
  if (f && f.id !== undefined && f.id !== null) {
    const { lng, lat } = state.info.lngLat;
    parts.push(`sel=${f.sourceLayer}/${encodeURIComponent(f.id)}@${lng.toFixed(6)},${lat.toFixed(6)}`);
  }
  if (state.walk) parts.push(`walk=${state.walk.minutes}@${state.walk.lon.toFixed(6)},${state.walk.lat.toFixed(6)}`);
  return `#${parts.join('&')}`;
}

// writeHash records the page's state in the URL: push adds a history entry.
function writeHash(push = false) {
  if (restoring) return;
  const h = hashOf();
  if (h === location.hash) return;
  if (push) history.pushState(null, '', h);
  else history.replaceState(null, '', h);
}

// --- The phone's sheet -----------------------------------------------------------------------
const sheetToggle = $('#panel-toggle');
const panelBody = $('#panel-body');
function setSheet(open) {
  panelBody.classList.toggle('collapsed', !open);
  sheetToggle.setAttribute('aria-expanded', String(open));
  sheetToggle.textContent = t(open ? 'panel.hide' : 'panel.show');
  map?.resize();
}
sheetToggle.addEventListener('click', () => setSheet(sheetToggle.getAttribute('aria-expanded') !== 'true'));
onLangChange(() => setSheet(sheetToggle.getAttribute('aria-expanded') === 'true'));

// reveal brings a result into view inside the panel (on a phone, the sheet scrolls; the page
// does not).
function reveal(node) {
  if (!node || panelBody.classList.contains('collapsed')) return;
  node.scrollIntoView({ block: 'nearest' });
}

// --- Layer panel -------------------------------------------------------------------------
function buildPanel() {
  const ul = $('#layer-list');
  ul.replaceChildren();
  for (const name of PANEL) {
    const id = `layer-${name}`;
    const cb = el('input', { type: 'checkbox', id, checked: state.on.has(name) });
    cb.dataset.layer = name;
    cb.setAttribute('aria-describedby', `${id}-legend`);
    const label = el('label', { htmlFor: id, textContent: t(`layer.${name}`) });
    const pct = state.opacity[name] ?? 100;
    const range = el('input', { type: 'range', id: `opacity-${name}`, min: '0', max: '100', step: '10', value: String(pct), className: 'opacity' });
    range.dataset.layer = name;
    range.setAttribute('aria-label', t('opacity.of', { layer: t(`layer.${name}`) }));
    range.setAttribute('aria-valuetext', t('opacity.value', { v: pct }));
    const opacity = el('div', { className: 'opacity-row' },
      el('label', { htmlFor: range.id, textContent: t('opacity.label'), className: 'small' }), range);
    const legend = legendList(name);
    legend.id = `${id}-legend`;
    ul.append(el('li', { className: 'layer-item' }, cb, label, opacity, legend));
    cb.addEventListener('change', () => {
      if (cb.checked) state.on.add(name); else state.on.delete(name);
      if (map) setPanelLayer(map, name, cb.checked, state.is3D);
      dropHiddenInfo();
      writeHash();
    });
    range.addEventListener('input', () => {
      state.opacity[name] = Number(range.value);
      range.setAttribute('aria-valuetext', t('opacity.value', { v: range.value }));
      if (map) setPanelOpacity(map, name, Number(range.value) / 100);
      writeHash();
    });
  }
}
buildPanel();
onLangChange(buildPanel);

const toggle3D = $('#toggle-3d');
toggle3D.checked = state.is3D;
toggle3D.addEventListener('change', () => {
  state.is3D = toggle3D.checked;
  if (map) set3D(map, state.is3D, state.on.has('buildings'));
});

// --- Map ---------------------------------------------------------------------------------
map = await createCityMap($('#map'), { view: initial.view });
function applyLayers() {
  for (const name of PANEL) {
    setPanelLayer(map, name, state.on.has(name), state.is3D);
    setPanelOpacity(map, name, (state.opacity[name] ?? 100) / 100);
  }
}
applyLayers();
// Popups are kept to a share of the map's height, so that they fit in it.
const mapBox = $('#map');
const sizePopups = () => mapBox.style.setProperty('--popup-max-h', `${Math.round(mapBox.clientHeight * 0.6)}px`);
sizePopups();
map.on('resize', sizePopups);
map.on('moveend', () => writeHash());
onLangChange(() => writeHash());

// The city's extent, from its tiles' TileJSON: places outside it have nothing to show.
const bounds = cityBounds(map);
function inCity(lon, lat) {
  if (!bounds) return true;
  const pad = 0.002; // about 200 m
  return lon >= bounds[0] - pad && lon <= bounds[2] + pad && lat >= bounds[1] - pad && lat <= bounds[3] + pad;
}
// metresToCity is the great-circle distance from a point to the nearest point of the extent.
function metresToCity(lon, lat) {
  if (!bounds) return 0;
  const cx = Math.min(Math.max(lon, bounds[0]), bounds[2]);
  const cy = Math.min(Math.max(lat, bounds[1]), bounds[3]);
  const rad = Math.PI / 180;
  const a = Math.sin(((cy - lat) * rad) / 2) ** 2 + Math.cos(lat * rad) * Math.cos(cy * rad) * Math.sin(((cx - lon) * rad) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}

// --- Feature information: the info box and the popup ------------------------------------------
const info = $('#info');

function closePopup() {
  if (!popup) return;
  closingOurselves = true;
  popup.remove();
  closingOurselves = false;
  popup = null;
}

// renderInfo is the information of the feature chosen at the point, then the others drawn
// there as a list, each of which opens in its turn.
function renderInfo(inPopup) {
  const { features, index, lngLat } = state.info;
  const f = features[index];
  const box = featureInfo(f.sourceLayer, f.id, f.properties);
  if (features.length > 1) {
    const ul = el('ul', { className: 'also-list' });
    features.forEach((g, i) => {
      if (i === index) return;
      const b = el('button', { type: 'button', className: 'link', textContent: featureTitle(g.sourceLayer, g.properties) });
      b.dataset.layer = g.sourceLayer;
      b.addEventListener('click', () => openFeature(i));
      ul.append(el('li', {}, b));
    });
    box.append(el('p', { className: 'also-title', textContent: t('info.also', { n: features.length - 1 }) }), ul);
  }
  if (inPopup && lngLat) {
    const b = el('button', { type: 'button', className: 'secondary walk-here', textContent: t('walk.here') });
    b.addEventListener('click', () => {
      choose({ lon: lngLat.lng, lat: lngLat.lat, labelKey: 'walk.origin.point' });
      startWalk(state.chosen);
    });
    box.append(el('div', { className: 'buttons' }, b));
  }
  return box;
}

// fitPopup pans the map so that the open popup is inside it, clear of the scale and the
// attribution at its foot.
function fitPopup() {
  if (!popup) return;
  const r = popup.getElement().getBoundingClientRect();
  const m = mapBox.getBoundingClientRect();
  const margin = 8;
  const foot = 36;
  let dx = 0;
  let dy = 0;
  if (r.top < m.top + margin) dy = r.top - m.top - margin;
  else if (r.bottom > m.bottom - foot) dy = Math.min(r.bottom - m.bottom + foot, r.top - m.top - margin);
  if (r.left < m.left + margin) dx = r.left - m.left - margin;
  else if (r.right > m.right - margin) dx = r.right - m.right + margin;
  if (dx || dy) map.panBy([dx, dy], { duration: 250 });
}

function renderPopup(fit = true) {
  const { lngLat } = state.info;
  closePopup();
  popup = new maplibregl.Popup({ maxWidth: '300px', focusAfterOpen: false, className: 'ct-popup' })
    .setLngLat(lngLat).setDOMContent(renderInfo(true)).addTo(map);
  popup.on('close', () => {
    popup = null;
    if (!closingOurselves) writeHash();
  });
  const close = popup.getElement().querySelector('.maplibregl-popup-close-button');
  if (close) { close.setAttribute('aria-label', t('popup.close')); close.title = t('popup.close'); }
  if (fit) requestAnimationFrame(fitPopup);
}

// showInfo shows the features found at a point (the first of them opened); lngLat null shows
// them in the info box only.
function showInfo(features, lngLat, { index = 0, push = true, fit = true } = {}) {
  closePopup();
  info.replaceChildren();
  if (!features.length) {
    state.info = null;
    info.append(el('p', { textContent: t('info.nothing') }));
    writeHash(push);
    return;
  }
  state.info = { features, index, lngLat };
  info.append(renderInfo(false));
  if (lngLat) renderPopup(fit);
  writeHash(push);
}

// openFeature opens another of the features at the point.
function openFeature(i) {
  const had = Boolean(popup);
  state.info.index = i;
  info.replaceChildren(renderInfo(false));
  if (had) {
    popup.setDOMContent(renderInfo(true));
    popup.getElement().querySelector('h3')?.setAttribute('tabindex', '-1');
    popup.getElement().querySelector('h3')?.focus();
    requestAnimationFrame(fitPopup);
  } else {
    info.querySelector('h3')?.setAttribute('tabindex', '-1');
    info.querySelector('h3')?.focus();
  }
  writeHash(true);
}

// dropHiddenInfo forgets the features of layers just hidden; the popup closes when none is
// left.
function dropHiddenInfo() {
  if (!state.info) return;
  const { features, index, lngLat } = state.info;
  const kept = features.filter((f) => state.on.has(f.sourceLayer));
  if (kept.length === features.length) return;
  if (!kept.length) {
    closePopup();
    state.info = null;
    info.replaceChildren(el('p', { className: 'muted', textContent: t('info.hidden') }));
    return;
  }
  const still = kept.indexOf(features[index]);
  const hadPopup = Boolean(popup);
  showInfo(kept, hadPopup ? lngLat : null, { index: Math.max(0, still), push: false });
}

// --- Numbered markers: what a list names, the map shows with the same number ------------------
function markersOf(list) {
  for (const m of list) m.remove();
  list.length = 0;
}
function addMarker(list, lonlat, n, cls) {
  const e = el('div', { className: `num-marker ${cls}`, textContent: String(n) });
  e.setAttribute('aria-hidden', 'true');
  list.push(new maplibregl.Marker({ element: e }).setLngLat(lonlat).addTo(map));
}
const badge = (n, cls) => {
  const b = el('span', { className: `num-badge ${cls}`, textContent: String(n) });
  b.setAttribute('aria-hidden', 'true');
  return b;
};

// --- What is near here -------------------------------------------------------------------
const NEAR_KINDS = ['school', 'clinic', 'pharmacy', 'park', 'citizen_center'];
const nearOut = $('#near-results');
const nearMarkers = [];
let nearSeq = 0;

function ensureNearLayers() {
  if (map.getSource('ct-near')) return;
  map.addSource('ct-near', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'ct-near-lines', type: 'line', source: 'ct-near', filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': '#0b3d6e', 'line-width': 2, 'line-dasharray': [2, 2] } });
  map.addLayer({
    id: 'ct-near-points', type: 'circle', source: 'ct-near', filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 7, 'circle-color': '#0b3d6e', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
  });
}

function clearNear() {
  nearSeq++;
  state.lastNear = null;
  markersOf(nearMarkers);
  if (map.getSource('ct-near')) map.getSource('ct-near').setData({ type: 'FeatureCollection', features: [] });
}

async function whatIsNear(lon, lat) {
  if (!inCity(lon, lat)) {
    clearNear();
    nearOut.replaceChildren(el('p', { className: 'notice', textContent: t('near.outside.point') }));
    return;
  }
  const seq = ++nearSeq;
  nearOut.replaceChildren(el('p', { textContent: t('near.loading') }));
  const answers = await Promise.all(NEAR_KINDS.map((kind) => nearest(lon, lat, kind, 1).then((r) => ({ kind, r: r[0] }), (err) => ({ kind, err }))));
  if (seq !== nearSeq) return;
  state.lastNear = { lon, lat, answers };
  renderNear();
  ensureNearLayers();
  const feats = [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [lon, lat] } }];
  markersOf(nearMarkers);
  let n = 0;
  for (const a of answers) {
    if (!a.r || !a.r.lonlat) continue;
    addMarker(nearMarkers, a.r.lonlat, ++n, 'near');
    feats.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[lon, lat], a.r.lonlat] } });
  }
  map.getSource('ct-near').setData({ type: 'FeatureCollection', features: feats });
  reveal(nearOut);
}

function renderNear() {
  const n = state.lastNear;
  if (!n) return;
  const ul = el('ul', { className: 'near-list numbered' });
  let failed = 0;
  let count = 0;
  for (const { kind, r, err } of n.answers) {
    const li = el('li');
    li.dataset.kind = kind;
    if (err) failed++;
    if (!r) {
      li.textContent = t('near.none', { kind: t(`near.kind.${kind}`) });
    } else {
      li.dataset.distance = String(Math.round(r.distance_m));
      const text = el('span', {
        textContent: r.name
          ? t('near.item', { kind: t(`near.kind.${kind}`), name: r.name, dist: fmtDistance(r.distance_m) })
          : t('near.item.unnamed', { kind: t(`near.kind.${kind}`), dist: fmtDistance(r.distance_m) }),
      });
      if (r.lonlat) {
        count++;
        li.dataset.marker = String(count);
        li.append(badge(count, 'near'), el('span', { className: 'visually-hidden', textContent: `${t('near.marker', { n: count })}: ` }));
      }
      li.append(text);
      if (r.lonlat) {
        const b = el('button', { type: 'button', className: 'link', textContent: t('near.show') });
        b.setAttribute('aria-label', `${t('near.show')}: ${r.name || t(`val.kind.${r.kind}`)}`);
        b.addEventListener('click', () => map.flyTo({ center: r.lonlat, zoom: Math.max(map.getZoom(), 16) }));
        li.append(' ', b);
      }
    }
    ul.append(li);
  }
  const wrap = el('div', {}, el('p', { textContent: t('near.from.point') }), ul);
  if (failed === n.answers.length) wrap.replaceChildren(el('p', { textContent: t('near.error') }));
  nearOut.replaceChildren(wrap);
}

$('#near-centre').addEventListener('click', () => {
  const c = map.getCenter();
  whatIsNear(c.lng, c.lat);
});
$('#near-locate').addEventListener('click', () => {
  if (!navigator.geolocation) {
    nearOut.textContent = t('near.geo.unavailable');
    return;
  }
  nearOut.replaceChildren(el('p', { textContent: t('near.locating') }));
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      const { longitude: lon, latitude: lat } = pos.coords;
      if (!inCity(lon, lat)) {
        // Far from the city there is nothing to show: say so, and leave the map where it is.
        clearNear();
        nearOut.replaceChildren(el('p', { className: 'notice', textContent: t('near.outside', { dist: fmtDistance(metresToCity(lon, lat)) }) }));
        reveal(nearOut);
        return;
      }
      map.flyTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), 15) });
      whatIsNear(lon, lat);
    },
    () => { nearOut.textContent = t('near.geo.unavailable'); },
    { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 },
  );
});

// --- The walk: the streets reachable in 5, 10 or 15 minutes, from GET /api/isochrone -----------
const WALK_KINDS = ['school', 'clinic', 'pharmacy', 'park'];
const walkOut = $('#walk-results');
const walkOrigin = $('#walk-origin');
const walkChosen = $('#walk-chosen');
const walkClear = $('#walk-clear');
const walkMarkers = [];
let walkSeq = 0;

const originLabel = (o) => (o.labelKey ? t(o.labelKey) : o.label);
function renderOrigin() {
  walkOrigin.textContent = state.chosen ? t('walk.origin', { label: originLabel(state.chosen) }) : t('walk.origin.none');
  walkChosen.disabled = !state.chosen;
}
function choose(o) {
  state.chosen = o;
  renderOrigin();
}
renderOrigin();
onLangChange(renderOrigin);

function minutesChosen() {
  return Number(document.querySelector('input[name="walk-minutes"]:checked')?.value || 15);
}

function ensureWalkLayers() {
  if (map.getSource('ct-walk')) return;
  map.addSource('ct-walk', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  const before = map.getLayer('ct-air') ? 'ct-air' : undefined;
  map.addLayer({ id: 'ct-walk-area', type: 'fill', source: 'ct-walk', filter: ['==', ['get', 'kind'], 'hull'], paint: { 'fill-color': '#0a58a8', 'fill-opacity': 0.15 } }, before);
  map.addLayer({ id: 'ct-walk-reach', type: 'line', source: 'ct-walk', filter: ['==', ['get', 'kind'], 'reach'], paint: { 'line-color': '#0a58a8', 'line-width': 2.5 } }, before);
  map.addLayer({ id: 'ct-walk-origin', type: 'circle', source: 'ct-walk', filter: ['==', ['get', 'kind'], 'origin'], paint: { 'circle-radius': 7, 'circle-color': '#c2410c', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 } });
}

function clearWalk({ push = true } = {}) {
  walkSeq++;
  state.walk = null;
  markersOf(walkMarkers);
  if (map.getSource('ct-walk')) map.getSource('ct-walk').setData({ type: 'FeatureCollection', features: [] });
  walkOut.replaceChildren();
  walkClear.hidden = true;
  writeHash(push);
}
walkClear.addEventListener('click', () => clearWalk());

// startWalk asks for the walk of the chosen minutes from origin and draws it.
async function startWalk(origin, { minutes = minutesChosen(), push = true, fit = true } = {}) {
  const seq = ++walkSeq;
  const { lon, lat } = origin;
  state.walk = { ...origin, minutes, answer: null };
  walkClear.hidden = false;
  markersOf(walkMarkers);
  if (!inCity(lon, lat)) {
    walkOut.replaceChildren(el('p', { className: 'notice', textContent: t('walk.outside') }));
    reveal(walkOut);
    return;
  }
  walkOut.replaceChildren(el('p', { textContent: t('walk.loading') }));
  reveal(walkOut);
  const q = `lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}&minutes=${minutes}`;
  let iso;
  let park;
  try {
    [iso, park] = await Promise.all([api(`/api/isochrone?${q}`), nearest(lon, lat, 'park', 1).catch(() => [])]);
  } catch (err) {
    if (seq !== walkSeq) return;
    const outside = err instanceof ApiError && err.status === 400 && (err.field === 'lon' || err.field === 'lat');
    walkOut.replaceChildren(el('p', { className: 'notice', textContent: t(outside ? 'walk.outside' : 'walk.error') }));
    writeHash(push);
    return;
  }
  if (seq !== walkSeq) return;
  state.walk.answer = { iso, park: park[0] || null };
  drawWalk(fit);
  renderWalk();
  writeHash(push);
}

// nearestReached is the facility of a kind nearest along the streets, from the answer.
function nearestReached(iso, kind) {
  let best = null;
  for (const f of iso.features) {
    const p = f.properties || {};
    if (f.geometry?.type !== 'Point' || p.kind !== kind || typeof p.walk_m !== 'number') continue;
    if (!best || p.walk_m < best.properties.walk_m) best = f;
  }
  return best;
}

function walkItems() {
  const { iso, park } = state.walk.answer;
  const reach = iso.features.find((f) => f.properties?.kind === 'reach') || {};
  const limit = Number(reach.properties?.limit_m) || state.walk.minutes * 80;
  return WALK_KINDS.map((kind) => {
    if (kind === 'park') {
      return park && park.distance_m <= limit ? { kind, name: park.name, dist: park.distance_m, lonlat: park.lonlat, straight: true } : { kind };
    }
    const f = nearestReached(iso, kind);
    return f ? { kind, name: f.properties.name || '', dist: f.properties.walk_m, lonlat: f.geometry.coordinates } : { kind };
  });
}

function drawWalk(fit) {
  ensureWalkLayers();
  const { iso } = state.walk.answer;
  const { lon, lat } = state.walk;
  const shapes = iso.features.filter((f) => ['hull', 'reach'].includes(f.properties?.kind));
  shapes.push({ type: 'Feature', properties: { kind: 'origin' }, geometry: { type: 'Point', coordinates: [lon, lat] } });
  map.getSource('ct-walk').setData({ type: 'FeatureCollection', features: shapes });
  markersOf(walkMarkers);
  let n = 0;
  for (const it of walkItems()) if (it.lonlat) addMarker(walkMarkers, it.lonlat, ++n, 'walk');
  const hull = shapes.find((f) => f.properties.kind === 'hull');
  if (fit && hull) {
    const b = new maplibregl.LngLatBounds();
    for (const ring of hull.geometry.coordinates) for (const c of ring) b.extend(c);
    map.fitBounds(b, { padding: 30, maxZoom: 17, duration: 600 });
  }
}

function renderWalk() {
  const w = state.walk;
  if (!w) return;
  if (!w.answer) return;
  const { iso } = w.answer;
  const reach = iso.features.find((f) => f.properties?.kind === 'reach') || {};
  const limit = Number(reach.properties?.limit_m) || 0;
  const ul = el('ul', { className: 'walk-list numbered' });
  let n = 0;
  for (const it of walkItems()) {
    const li = el('li');
    li.dataset.kind = it.kind;
    const kind = t(`near.kind.${it.kind}`);
    if (!it.lonlat) {
      li.textContent = t('walk.none', { kind, min: w.minutes });
    } else {
      n++;
      li.dataset.walk = String(Math.round(it.dist));
      li.dataset.marker = String(n);
      if (it.straight) li.dataset.straight = 'true';
      const key = it.straight ? 'walk.park' : 'walk.item';
      const text = it.name ? t(key, { kind, name: it.name, dist: fmtDistance(it.dist) }) : t(`${key}.unnamed`, { kind, dist: fmtDistance(it.dist) });
      const b = el('button', { type: 'button', className: 'link', textContent: t('near.show') });
      b.setAttribute('aria-label', `${t('near.show')}: ${it.name || kind}`);
      b.addEventListener('click', () => map.flyTo({ center: it.lonlat, zoom: Math.max(map.getZoom(), 16) }));
      li.append(badge(n, 'walk'), el('span', { className: 'visually-hidden', textContent: `${t('near.marker', { n })}: ` }), el('span', { textContent: text }), ' ', b);
    }
    ul.append(li);
  }
  // The other kinds reached, counted.
  const counts = {};
  for (const f of iso.features) {
    const k = f.properties?.kind;
    if (f.geometry?.type === 'Point' && k && !WALK_KINDS.includes(k)) counts[k] = (counts[k] || 0) + 1;
  }
  const also = Object.entries(counts).map(([k, c]) => `${t(`val.kind.${k}`)} (${c})`).join(', ');
  const wrap = el('div', {},
    el('p', { className: 'walk-head', textContent: t('walk.head', { min: w.minutes, dist: fmtDistance(limit), label: originLabel(w) }) }), ul);
  if (also) wrap.append(el('p', { className: 'small', textContent: t('walk.also', { list: also }) }));
  walkOut.replaceChildren(wrap);
  reveal(walkOut);
}
onLangChange(renderWalk);

walkChosen.addEventListener('click', () => { if (state.chosen) startWalk(state.chosen); });
$('#walk-centre').addEventListener('click', () => {
  const c = map.getCenter();
  startWalk({ lon: c.lng, lat: c.lat, labelKey: 'walk.origin.centre' });
});

// --- Clicks and the keyboard -----------------------------------------------------------
map.on('click', (e) => {
  showInfo(featuresAt(map, e.point), e.lngLat);
  choose({ lon: e.lngLat.lng, lat: e.lngLat.lat, labelKey: 'walk.origin.point' });
  whatIsNear(e.lngLat.lng, e.lngLat.lat);
});
map.on('mousemove', (e) => {
  map.getCanvas().style.cursor = featuresAt(map, e.point).length ? 'pointer' : '';
});

function identifyCentre() {
  const c = map.getCenter();
  showInfo(featuresAt(map, map.project(c)), c);
}
map.getCanvas().addEventListener('keydown', (e) => {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    identifyCentre();
  }
});
$('#info-centre').addEventListener('click', identifyCentre);
// Escape closes the popup (the search box keeps Escape for its list).
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || !popup || e.target === sq) return;
  popup.remove();
});

// --- Place search (combobox: the input owns a listbox of hits) -----------------------------
// GET /api/search finds streets, addresses, squares, districts, facilities (by name or kind, in
// Romanian or English), parks and parcels; choosing a hit flies the map there.
const sq = $('#search-q');
const slist = $('#search-list');
const sstatus = $('#search-status');
const search = { hits: [], active: -1, seq: 0, timer: 0, q: '' };

function hitKind(h) {
  const kind = t(`search.kind.${h.kind}`);
  return h.category && h.kind === 'facility' ? t(`val.kind.${h.category}`) : kind;
}

function renderSearch() {
  slist.replaceChildren();
  search.hits.forEach((h, i) => {
    const li = document.createElement('li');
    li.id = `search-opt-${i}`;
    li.setAttribute('role', 'option');
    li.setAttribute('aria-selected', String(i === search.active));
    const label = document.createElement('span');
    label.textContent = h.label;
    const kind = document.createElement('span');
    kind.className = 'search-kind';
    kind.textContent = hitKind(h);
    li.append(label, ' ', kind);
    li.addEventListener('mousedown', (e) => e.preventDefault()); // keep the focus in the input
    li.addEventListener('click', () => chooseHit(i));
    slist.append(li);
  });
  const open = search.hits.length > 0;
  slist.hidden = !open;
  sq.setAttribute('aria-expanded', String(open));
  if (open && search.active >= 0) {
    sq.setAttribute('aria-activedescendant', `search-opt-${search.active}`);
    slist.children[search.active].scrollIntoView({ block: 'nearest' });
  } else {
    sq.removeAttribute('aria-activedescendant');
  }
}

function closeSearch() {
  search.hits = [];
  search.active = -1;
  renderSearch();
}

// lookup asks for the hits of the input's text; an older answer arriving late is dropped.
async function lookup() {
  clearTimeout(search.timer);
  const q = sq.value.trim();
  const my = ++search.seq;
  if (!q) {
    search.q = '';
    closeSearch();
    sstatus.textContent = '';
    return;
  }
  let hits;
  try {
    hits = (await api(`/api/search?q=${encodeURIComponent(q)}&limit=10`)).hits || [];
  } catch {
    if (my === search.seq) { closeSearch(); sstatus.textContent = t('search.error'); }
    return;
  }
  if (my !== search.seq) return;
  search.q = q;
  search.hits = hits;
  search.active = -1;
  renderSearch();
  sstatus.textContent = hits.length ? t('search.found', { n: hits.length }) : t('search.none', { q });
}

function chooseHit(i) {
  const h = search.hits[i];
  if (!h) return;
  sq.value = h.label;
  search.seq++; // an answer still on its way must not reopen the list
  closeSearch();
  choose({ lon: h.point[0], lat: h.point[1], label: h.label });
  const [w, s, e, n] = h.bbox;
  if (['facility', 'park', 'address', 'parcel'].includes(h.kind)) {
    // A thing of its own at the hit's point: show what is there once the map has arrived.
    map.once('moveend', () => {
      const fs = featuresAt(map, map.project(h.point));
      if (fs.length) showInfo(fs, { lng: h.point[0], lat: h.point[1] }, { push: false });
    });
  }
  if (e - w > 1e-5 || n - s > 1e-5) {
    map.fitBounds([[w, s], [e, n]], { padding: 40, maxZoom: 18 });
  } else {
    map.flyTo({ center: h.point, zoom: Math.max(map.getZoom(), 17) });
  }
  // Going to a place is a step of its own in the history.
  history.pushState(null, '', location.hash);
  sstatus.textContent = t('search.went', { label: `${h.label} (${hitKind(h)})` });
}

sq.addEventListener('input', () => {
  clearTimeout(search.timer);
  search.timer = setTimeout(lookup, 150);
});
sq.addEventListener('keydown', async (e) => {
  const n = search.hits.length;
  switch (e.key) {
    case 'ArrowDown':
    case 'ArrowUp': {
      e.preventDefault();
      if (!n || search.q !== sq.value.trim()) {
        await lookup();
        if (!search.hits.length) return;
        search.active = e.key === 'ArrowDown' ? 0 : search.hits.length - 1;
      } else {
        const step = e.key === 'ArrowDown' ? 1 : -1;
        search.active = search.active < 0 && step < 0 ? n - 1 : (search.active + step + n) % n;
      }
      renderSearch();
      break;
    }
    case 'Enter':
      e.preventDefault();
      if (search.q !== sq.value.trim()) await lookup();
      chooseHit(search.active >= 0 ? search.active : 0);
      break;
    case 'Escape':
      if (n) { e.preventDefault(); closeSearch(); } else if (sq.value) { e.preventDefault(); sq.value = ''; sstatus.textContent = ''; }
      break;
    default:
  }
});
sq.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== sq) closeSearch(); }, 0));
$('#search-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (search.q !== sq.value.trim()) await lookup();
  chooseHit(search.active >= 0 ? search.active : 0);
});
onLangChange(renderSearch);

onLangChange(() => {
  if (state.info) {
    info.replaceChildren(renderInfo(false));
    if (popup) popup.setDOMContent(renderInfo(true));
  }
  renderNear();
});

// --- Restoring a permalink: at load, and on Back and Forward ------------------------------------
function sameView(v) {
  const c = map.getCenter();
  return Math.abs(c.lng - v.center[0]) < 1e-5 && Math.abs(c.lat - v.center[1]) < 1e-5 && Math.abs(map.getZoom() - v.zoom) < 0.01
    && Math.abs(map.getBearing() - v.bearing) < 0.5 && Math.abs(map.getPitch() - v.pitch) < 0.5;
}

// selectFromLink opens the popup of a feature named by the URL, once its tiles are drawn.
function selectFromLink(sel) {
  const find = () => {
    const fs = featuresAt(map, map.project(sel.lngLat));
    const i = fs.findIndex((f) => f.sourceLayer === sel.layer && String(f.id) === sel.id);
    if (i >= 0) showInfo(fs, sel.lngLat, { index: i, push: false, fit: false }); // the link's view stays
  };
  if (map.loaded() && map.areTilesLoaded()) find();
  else map.once('idle', find);
}

function restore(s, { first = false } = {}) {
  restoring = true;
  try {
    if (s.lang && s.lang !== lang()) setLang(s.lang);
    const on = new Set(s.layers ?? DEFAULT_ON);
    const op = s.opacity || {};
    const layersChanged = PANEL.some((n) => on.has(n) !== state.on.has(n) || (op[n] ?? 100) !== (state.opacity[n] ?? 100));
    if (layersChanged) {
      state.on = on;
      state.opacity = { ...op };
      buildPanel();
      applyLayers();
    }
    if (s.view && !first && !sameView(s.view)) {
      state.is3D = s.view.pitch > 0;
      toggle3D.checked = state.is3D;
      setPanelLayer(map, 'buildings', state.on.has('buildings'), state.is3D);
      map.jumpTo(s.view);
    }
    if (!s.sel) {
      closePopup();
    } else {
      const f = state.info && popup && state.info.features[state.info.index];
      if (!f || f.sourceLayer !== s.sel.layer || String(f.id) !== s.sel.id) selectFromLink(s.sel);
    }
    if (!s.walk) {
      if (state.walk) clearWalk({ push: false });
    } else if (!state.walk || state.walk.minutes !== s.walk.minutes || Math.abs(state.walk.lon - s.walk.lon) > 1e-6 || Math.abs(state.walk.lat - s.walk.lat) > 1e-6) {
      const radio = document.querySelector(`input[name="walk-minutes"][value="${s.walk.minutes}"]`);
      if (radio) radio.checked = true;
      startWalk({ lon: s.walk.lon, lat: s.walk.lat, labelKey: 'walk.origin.point' }, { minutes: s.walk.minutes, push: false, fit: false });
    }
  } finally {
    restoring = false;
  }
}

restore(initial, { first: true });
writeHash();
window.addEventListener('popstate', () => restore(readHash()));
