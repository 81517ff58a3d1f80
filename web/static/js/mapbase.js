// The city map shared by the public map and the planner: MapLibre on CityTwin's style, with
// the thematic layers of thematic.js on the city's vector tiles, a 2D/3D switch, keyboard
// identification at the centre, and the test hooks window.map and window.ready.
import * as maplibregl from '../vendor/maplibre-gl/maplibre-gl.mjs';
import { t, onLangChange } from './i18n.js';
import { PANEL, DEFAULT_ON, thematicLayers, CLICK_ORDER } from './thematic.js';

export { maplibregl };

const STYLE_URL = '/styles/city.json';

const abs = (u) => (typeof u === 'string' ? new URL(u, location.href).href : u);
// absTemplate makes a URL template absolute without percent-encoding its {tokens}, which
// MapLibre must find as they are.
const absTemplate = (u) => (typeof u !== 'string' || /^[a-z][a-z0-9+.-]*:/i.test(u) ? u : abs('/').slice(0, -1) + (u.startsWith('/') ? u : `/${u}`));

// loadStyle fetches the city's style and prepares it: absolute URLs (the worker resolves
// nothing relative), its own layers of the panel's source-layers removed (thematic.js draws
// them, with the legends the panel shows), and a vector source for each panel layer.
async function loadStyle() {
  let style;
  try {
    const res = await fetch(STYLE_URL);
    if (!res.ok) throw new Error(`${STYLE_URL}: ${res.status}`);
    style = await res.json();
  } catch (err) {
    console.warn('city style unavailable, using a bare one', err);
    style = { version: 8, sources: {}, layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#f2efe9' } }] };
  }
  for (const src of Object.values(style.sources || {})) {
    if (src.url) src.url = abs(src.url);
    if (Array.isArray(src.tiles)) src.tiles = src.tiles.map(absTemplate);
  }
  // The map starts flat; the 3D switch tilts it.
  style.pitch = 0;
  style.bearing = 0;
  if (style.glyphs) style.glyphs = absTemplate(style.glyphs);
  if (typeof style.sprite === 'string') style.sprite = abs(style.sprite);

  // Which source holds which source-layer, as the style itself uses them.
  const sourceOf = {};
  for (const l of style.layers || []) {
    const sl = l['source-layer'];
    if (sl && l.source && !sourceOf[sl]) sourceOf[sl] = l.source;
  }
  const missing = PANEL.filter((n) => !sourceOf[n] || !style.sources[sourceOf[n]]);
  if (missing.length) {
    style.sources['ct-city'] = { type: 'vector', url: abs(`/tiles/${missing.join(',')}.json`) };
    for (const n of missing) sourceOf[n] = 'ct-city';
  }
  const attributions = await inlineTileJSON(style);
  const panelSet = new Set(PANEL);
  style.layers = (style.layers || []).filter((l) => !panelSet.has(l['source-layer']));
  // The base map (water, streets, district outlines) and the labels stay from the style.
  return { style, sourceOf, attributions };
}

// inlineTileJSON reads the TileJSON of each vector source with a url (the request MapLibre
// would make anyway) and puts its tiles, zoom range and bounds in the style, so the page
// knows the city's extent; the sources' attributions are taken out and returned, to be shown
// in the page's language by the attribution control.
async function inlineTileJSON(style) {
  const out = [];
  await Promise.all(Object.values(style.sources || {}).map(async (src) => {
    if (src.type !== 'vector' || !src.url) return;
    try {
      const res = await fetch(src.url);
      if (!res.ok) return;
      const tj = await res.json();
      if (!Array.isArray(tj.tiles)) return;
      delete src.url;
      src.tiles = tj.tiles.map(absTemplate);
      for (const k of ['minzoom', 'maxzoom', 'bounds', 'scheme']) if (tj[k] !== undefined) src[k] = tj[k];
      if (tj.attribution) out.push(tj.attribution);
    } catch { /* MapLibre reads the url itself */ }
  }));
  for (const src of Object.values(style.sources || {})) {
    if (src.attribution) { out.push(src.attribution); delete src.attribution; }
  }
  return [...new Set(out)];
}

// localAttribution says an attribution in the page's language: OpenStreetMap's, and the
// note on modelled features, are known sentences; anything else is shown as the source gives it.
function localAttribution(raw) {
  if (!/OpenStreetMap/.test(raw)) return raw;
  let html = `© <a href="https://www.openstreetmap.org/copyright" rel="noopener">${t('map.attrib.osm')}</a> (ODbL)`;
  if (/derived|modelled/i.test(raw)) html += `; ${t('map.attrib.modelled')}`;
  return html;
}

// cityBounds is the city's extent [w, s, e, n] from its tiles' TileJSON, or null.
export function cityBounds(map) {
  let b = null;
  for (const id of Object.keys(map.getStyle().sources)) {
    const sb = map.getSource(id)?.bounds;
    if (!Array.isArray(sb) || sb.length !== 4 || sb[0] <= -180 && sb[2] >= 180) continue;
    b = b ? [Math.min(b[0], sb[0]), Math.min(b[1], sb[1]), Math.max(b[2], sb[2]), Math.max(b[3], sb[3])] : [...sb];
  }
  return b;
}

// createCityMap makes the map in container; resolves once the style is loaded and the
// thematic layers are added.
// view ({center, zoom, bearing, pitch}) overrides the style's first view.
export async function createCityMap(container, { transformRequest, interactiveHint = true, view } = {}) {
  const { style, sourceOf, attributions } = await loadStyle();
  const layers = thematicLayers((n) => sourceOf[n]);
  // Hand the thematic layers to the style before the map starts, so no tile is loaded twice.
  style.layers.push(...layers.map((l) => ({
    ...l, layout: { ...(l.layout || {}), visibility: DEFAULT_ON.has(l.metadata.panel) && l.id !== 'ct-buildings-3d' ? 'visible' : 'none' },
  })));
  // The style's labels go over everything, the thematic layers included (a stable sort keeps
  // every other layer's order).
  style.layers.sort((a, b) => (a.type === 'symbol') - (b.type === 'symbol'));
  const narrow = container.clientWidth < 500;
  if (narrow && typeof style.zoom === 'number') style.zoom -= 0.5;
  if (view) Object.assign(style, Object.fromEntries(Object.entries(view).filter(([, v]) => v !== undefined)));

  const map = new maplibregl.Map({
    container,
    style,
    attributionControl: false,
    transformRequest,
    maxPitch: 70,
    cooperativeGestures: false,
    locale: mapLocale(),
    fadeDuration: 0,
  });
  window.map = map;
  window.ready = false;
  map.once('idle', () => { window.ready = true; });

  map.addControl(new maplibregl.NavigationControl({ visualizePitch: true }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  // The attribution in the page's language; on a narrow map it folds into an icon (MapLibre's
  // compact attribution), closed at first, so it hides neither the scale nor the map.
  let attribution = null;
  const attribute = () => {
    if (attribution) map.removeControl(attribution);
    attribution = new maplibregl.AttributionControl({ customAttribution: attributions.map(localAttribution) });
    map.addControl(attribution, 'bottom-right');
    const el = container.querySelector('.maplibregl-ctrl-attrib');
    if (el && el.classList.contains('maplibregl-compact')) {
      el.classList.remove('maplibregl-compact-show');
      el.removeAttribute('open');
    }
  };
  attribute();
  onLangChange(attribute);

  await new Promise((resolve) => (map.loaded() ? resolve() : map.once('load', resolve)));
  if (!style.center && !style.zoom) fitToData(map, sourceOf);

  const canvas = map.getCanvas();
  const label = () => {
    canvas.setAttribute('aria-label', t('map.label'));
    canvas.setAttribute('role', 'application');
    canvas.setAttribute('aria-roledescription', t('map.region'));
    relabelControls(container);
  };
  label();
  onLangChange(label);
  if (interactiveHint) {
    const cross = document.createElement('div');
    cross.className = 'crosshair';
    cross.setAttribute('aria-hidden', 'true');
    container.append(cross);
  }
  return map;
}

function mapLocale() {
  return {
    'NavigationControl.ZoomIn': t('ctrl.zoomin'),
    'NavigationControl.ZoomOut': t('ctrl.zoomout'),
    'NavigationControl.ResetBearing': t('ctrl.north'),
    'Popup.Close': t('popup.close'),
    'AttributionControl.ToggleAttribution': t('map.attrib.toggle'),
  };
}

// relabelControls re-titles MapLibre's buttons after a language switch.
function relabelControls(container) {
  const set = (sel, key) => {
    for (const b of container.querySelectorAll(sel)) { b.title = t(key); b.setAttribute('aria-label', t(key)); }
  };
  set('.maplibregl-ctrl-zoom-in', 'ctrl.zoomin');
  set('.maplibregl-ctrl-zoom-out', 'ctrl.zoomout');
  set('.maplibregl-ctrl-compass', 'ctrl.north');
  set('.maplibregl-popup-close-button', 'popup.close');
  set('.maplibregl-ctrl-attrib-button', 'map.attrib.toggle');
  const attrib = container.querySelector('.maplibregl-ctrl-attrib-inner');
  if (attrib) {
    for (const a of attrib.querySelectorAll('a')) a.rel = 'noopener';
  }
}

async function fitToData(map, sourceOf) {
  const src = map.getSource(sourceOf.buildings);
  const b = src && src.bounds;
  if (Array.isArray(b) && b.length === 4) map.fitBounds(b, { padding: 20, duration: 0 });
}

// setPanelLayer shows or hides every map layer of a panel layer (keeping the 3D mode's choice
// of flat or extruded buildings).
export function setPanelLayer(map, name, on, is3D) {
  for (const l of map.getStyle().layers) {
    if (l.metadata?.panel !== name) continue;
    let vis = on;
    if (l.id === 'ct-buildings-3d') vis = on && is3D;
    if (l.id === 'ct-buildings') vis = on && !is3D;
    map.setLayoutProperty(l.id, 'visibility', vis ? 'visible' : 'none');
  }
}

// setPanelOpacity draws a panel layer at a share (0–1) of its usual opacity.
const OPACITY_PROPS = {
  fill: ['fill-opacity'], line: ['line-opacity'], circle: ['circle-opacity', 'circle-stroke-opacity'],
  'fill-extrusion': ['fill-extrusion-opacity'],
};
const baseOpacity = new WeakMap();
export function setPanelOpacity(map, name, share) {
  if (!baseOpacity.has(map)) baseOpacity.set(map, {});
  const base = baseOpacity.get(map);
  for (const l of map.getStyle().layers) {
    if (l.metadata?.panel !== name) continue;
    for (const prop of OPACITY_PROPS[l.type] || []) {
      const key = `${l.id}/${prop}`;
      if (!(key in base)) base[key] = map.getPaintProperty(l.id, prop) ?? 1;
      const b = base[key];
      map.setPaintProperty(l.id, prop, typeof b === 'number' ? b * share : ['*', share, b]);
    }
  }
}

// set3D switches between the flat map and extruded buildings seen at an angle.
export function set3D(map, on, buildingsOn = true) {
  setPanelLayer(map, 'buildings', buildingsOn, on);
  map.easeTo({ pitch: on ? 60 : 0, bearing: on ? -20 : 0, duration: 600 });
}

// clickableLayers lists the ct- layers that are visible, for queryRenderedFeatures.
export function clickableLayers(map) {
  return map.getStyle().layers
    .filter((l) => l.id.startsWith('ct-') && l.metadata?.panel && map.getLayoutProperty(l.id, 'visibility') !== 'none' && l.type !== 'line')
    .map((l) => l.id);
}

// featuresAt returns the distinct features drawn at a screen point, the preferred first;
// points count within a few pixels, so a tap need not hit them exactly.
export function featuresAt(map, point, layerIds = clickableLayers(map)) {
  const circles = layerIds.filter((id) => map.getLayer(id)?.type === 'circle');
  const box = [[point.x - 8, point.y - 8], [point.x + 8, point.y + 8]];
  const found = [
    ...(circles.length ? map.queryRenderedFeatures(box, { layers: circles }) : []),
    ...map.queryRenderedFeatures(point, { layers: layerIds }),
  ];
  const seen = new Set();
  const out = [];
  for (const f of found) {
    const key = `${f.sourceLayer}/${f.id ?? JSON.stringify(f.properties)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  const rank = (f) => { const i = CLICK_ORDER.indexOf(f.sourceLayer); return i < 0 ? 99 : i; };
  return out.sort((a, b) => rank(a) - rank(b));
}
