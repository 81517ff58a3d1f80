// The public map at /: layer panel with legends, 2D/3D, feature information (popup and text),
// "what is near here", a facility search, and the Romanian/English switch.
import { t, initLangSwitch, onLangChange, fmtDistance } from './i18n.js';
import { PANEL, DEFAULT_ON, legendList, featureInfo } from './thematic.js';
import { createCityMap, maplibregl, setPanelLayer, set3D, featuresAt } from './mapbase.js';
import { api, list, nearest } from './api.js';

initLangSwitch();

const $ = (sel) => document.querySelector(sel);
const state = { on: new Set(DEFAULT_ON), is3D: false, lastInfo: null, lastNear: null };

// --- Layer panel -------------------------------------------------------------------------
function buildPanel() {
  const ul = $('#layer-list');
  ul.replaceChildren();
  for (const name of PANEL) {
    const li = document.createElement('li');
    li.className = 'layer-item';
    const id = `layer-${name}`;
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.id = id;
    cb.checked = state.on.has(name);
    cb.dataset.layer = name;
    cb.setAttribute('aria-describedby', `${id}-legend`);
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = t(`layer.${name}`);
    const legend = legendList(name);
    legend.id = `${id}-legend`;
    li.append(cb, label, legend);
    ul.append(li);
    cb.addEventListener('change', () => {
      if (cb.checked) state.on.add(name); else state.on.delete(name);
      if (window.map) setPanelLayer(window.map, name, cb.checked, state.is3D);
    });
  }
}
buildPanel();
onLangChange(buildPanel);

const toggle3D = $('#toggle-3d');
toggle3D.addEventListener('change', () => {
  state.is3D = toggle3D.checked;
  if (window.map) set3D(window.map, state.is3D, state.on.has('buildings'));
});

// --- Map ---------------------------------------------------------------------------------
const map = await createCityMap($('#map'));
for (const name of PANEL) setPanelLayer(map, name, state.on.has(name), state.is3D);

const info = $('#info');
let popup = null;

function showInfo(features, lngLat) {
  state.lastInfo = { features, lngLat };
  info.replaceChildren();
  if (popup) { popup.remove(); popup = null; }
  if (!features.length) {
    const p = document.createElement('p');
    p.textContent = t('info.nothing');
    info.append(p);
    return;
  }
  const f = features[0];
  const render = () => {
    const box = featureInfo(f.sourceLayer, f.id, f.properties);
    if (features.length > 1) {
      const more = document.createElement('p');
      more.className = 'muted';
      more.textContent = t('info.more', { n: features.length - 1 });
      box.append(more);
    }
    return box;
  };
  info.append(render());
  if (lngLat) {
    popup = new maplibregl.Popup({ maxWidth: '300px', focusAfterOpen: false, className: 'ct-popup' })
      .setLngLat(lngLat).setDOMContent(render()).addTo(map);
    popup.on('close', () => { popup = null; });
    const close = popup.getElement().querySelector('.maplibregl-popup-close-button');
    if (close) { close.setAttribute('aria-label', t('popup.close')); close.title = t('popup.close'); }
  }
}

// --- What is near here -------------------------------------------------------------------
const NEAR_KINDS = ['school', 'clinic', 'pharmacy', 'park', 'citizen_center'];
const nearOut = $('#near-results');
let nearSeq = 0;

function ensureNearLayers() {
  if (map.getSource('ct-near')) return;
  map.addSource('ct-near', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'ct-near-lines', type: 'line', source: 'ct-near', filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': '#0b3d6e', 'line-width': 2, 'line-dasharray': [2, 2] } });
  map.addLayer({
    id: 'ct-near-points', type: 'circle', source: 'ct-near', filter: ['==', ['geometry-type'], 'Point'],
    paint: {
      'circle-radius': ['case', ['get', 'origin'], 7, 9], 'circle-color': ['case', ['get', 'origin'], '#0b3d6e', '#ffffff'],
      'circle-stroke-color': '#0b3d6e', 'circle-stroke-width': 3,
    },
  });
}

async function whatIsNear(lon, lat) {
  const seq = ++nearSeq;
  nearOut.replaceChildren(Object.assign(document.createElement('p'), { textContent: t('near.loading') }));
  const answers = await Promise.all(NEAR_KINDS.map((kind) => nearest(lon, lat, kind, 1).then((r) => ({ kind, r: r[0] }), (err) => ({ kind, err }))));
  if (seq !== nearSeq) return;
  state.lastNear = { lon, lat, answers };
  renderNear();
  ensureNearLayers();
  const feats = [{ type: 'Feature', properties: { origin: true }, geometry: { type: 'Point', coordinates: [lon, lat] } }];
  for (const a of answers) {
    if (!a.r || !a.r.lonlat) continue;
    feats.push({ type: 'Feature', properties: { origin: false }, geometry: { type: 'Point', coordinates: a.r.lonlat } });
    feats.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[lon, lat], a.r.lonlat] } });
  }
  map.getSource('ct-near').setData({ type: 'FeatureCollection', features: feats });
}

function renderNear() {
  const n = state.lastNear;
  if (!n) return;
  const wrap = document.createElement('div');
  const head = document.createElement('p');
  head.textContent = t('near.from', { lat: n.lat.toFixed(5), lon: n.lon.toFixed(5) });
  const ul = document.createElement('ul');
  ul.className = 'near-list';
  let failed = 0;
  for (const { kind, r, err } of n.answers) {
    const li = document.createElement('li');
    li.dataset.kind = kind;
    if (err) failed++;
    if (!r) {
      li.textContent = t('near.none', { kind: t(`near.kind.${kind}`) });
    } else {
      li.dataset.distance = String(Math.round(r.distance_m));
      const text = document.createElement('span');
      text.textContent = r.name
        ? t('near.item', { kind: t(`near.kind.${kind}`), name: r.name, dist: fmtDistance(r.distance_m) })
        : t('near.item.unnamed', { kind: t(`near.kind.${kind}`), dist: fmtDistance(r.distance_m) });
      li.append(text);
      if (r.lonlat) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'link';
        b.textContent = t('near.show');
        b.setAttribute('aria-label', `${t('near.show')}: ${r.name || t(`val.kind.${r.kind}`)}`);
        b.addEventListener('click', () => map.flyTo({ center: r.lonlat, zoom: Math.max(map.getZoom(), 16) }));
        li.append(' ', b);
      }
    }
    ul.append(li);
  }
  wrap.append(head, ul);
  if (failed === n.answers.length) wrap.replaceChildren(Object.assign(document.createElement('p'), { textContent: t('near.error') }));
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
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      const { longitude: lon, latitude: lat } = pos.coords;
      map.flyTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), 15) });
      whatIsNear(lon, lat);
    },
    () => { nearOut.textContent = t('near.geo.unavailable'); },
    { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 },
  );
});

// --- Clicks and the keyboard -----------------------------------------------------------
map.on('click', (e) => {
  showInfo(featuresAt(map, e.point), e.lngLat);
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

// --- Facility search ---------------------------------------------------------------------
let facilities = null;
const norm = (s) => String(s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

$('#search-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = $('#search-q').value.trim();
  const out = $('#search-results');
  if (!q) return;
  if (!facilities) {
    try {
      facilities = list(await api('/api/features/facilities?bbox=-180,-85,180,85&limit=1000'), 'features');
    } catch {
      facilities = [];
    }
  }
  const hits = facilities.filter((f) => norm(f.properties?.name).includes(norm(q))).slice(0, 20);
  out.replaceChildren();
  if (!hits.length) {
    out.textContent = t('search.none', { q });
    return;
  }
  const ul = document.createElement('ul');
  ul.className = 'search-list';
  for (const f of hits) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link';
    b.textContent = `${f.properties.name} (${t(`val.kind.${f.properties.kind}`)})`;
    b.addEventListener('click', () => {
      const c = f.geometry.coordinates;
      map.flyTo({ center: c, zoom: Math.max(map.getZoom(), 17) });
      showInfo([{ sourceLayer: 'facilities', id: f.id, properties: f.properties }], c);
    });
    li.append(b);
    ul.append(li);
  }
  const count = document.createElement('p');
  count.className = 'muted';
  count.textContent = t('search.found', { n: hits.length });
  out.append(count, ul);
});

onLangChange(() => {
  if (state.lastInfo) showInfo(state.lastInfo.features, popup ? state.lastInfo.lngLat : null);
  renderNear();
});
