// The public map at /: layer panel with legends, 2D/3D, feature information (popup and text),
// "what is near here", a search for places (streets, addresses, facilities…), and the
// Romanian/English switch.
import { t, initLangSwitch, onLangChange, fmtDistance } from './i18n.js';
import { PANEL, DEFAULT_ON, legendList, featureInfo } from './thematic.js';
import { createCityMap, maplibregl, setPanelLayer, set3D, featuresAt } from './mapbase.js';
import { api, nearest } from './api.js';

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
  const [w, s, e, n] = h.bbox;
  if (['facility', 'park', 'address', 'parcel'].includes(h.kind)) {
    // A thing of its own at the hit's point: show what is there once the map has arrived.
    map.once('moveend', () => {
      const fs = featuresAt(map, map.project(h.point));
      if (fs.length) showInfo(fs, { lng: h.point[0], lat: h.point[1] });
    });
  }
  if (e - w > 1e-5 || n - s > 1e-5) {
    map.fitBounds([[w, s], [e, n]], { padding: 40, maxZoom: 18 });
  } else {
    map.flyTo({ center: h.point, zoom: Math.max(map.getZoom(), 17) });
  }
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
  if (state.lastInfo) showInfo(state.lastInfo.features, popup ? state.lastInfo.lngLat : null);
  renderNear();
});
