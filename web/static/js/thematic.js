// The thematic layers of the city: how each is drawn (MapLibre layer specs), its legend, its
// public fields in catalog order (layers/catalog.go) and how their values read.
import { t, fmt, has } from './i18n.js';

// The layers of the layer panel, in panel order, and the ones shown at first.
export const PANEL = ['buildings', 'facilities', 'green_spaces', 'parcels', 'zoning', 'noise', 'flood', 'air_stations', 'broadband'];
export const DEFAULT_ON = new Set(['buildings', 'facilities', 'green_spaces']);
// Bottom to top.
export const DRAW_ORDER = ['broadband', 'zoning', 'flood', 'noise', 'parcels', 'green_spaces', 'buildings', 'air_stations', 'facilities'];

// Public fields per layer, in catalog order.
export const FIELDS = {
  parcels: ['cad_number', 'area_m2', 'land_use', 'intravilan', 'ownership', 'address', 'derived'],
  buildings: ['use', 'floors', 'height_m', 'dwellings', 'year_built', 'gfa_m2', 'cad_number', 'derived'],
  zoning: ['code', 'name', 'allowed_uses', 'max_pot_pct', 'max_cut', 'max_height_m', 'max_floors', 'regulation_url', 'derived'],
  facilities: ['kind', 'name', 'capacity', 'capacity_unit', 'derived'],
  green_spaces: ['kind', 'public', 'area_m2', 'derived'],
  noise: ['source', 'lden_db', 'lnight_db', 'derived'],
  flood: ['return_period_years', 'derived'],
  air_stations: ['name', 'pm25', 'pm10', 'no2', 'year', 'derived'],
  broadband: ['technology', 'max_down_mbps', 'derived'],
  districts: ['name', 'code', 'derived'],
};

export const USE_COLORS = {
  residential: '#e9a23b', mixed: '#d4703c', commercial: '#c23b5a', office: '#8757c0',
  industrial: '#6f6f6f', education: '#2f6fce', health: '#d23c3c', culture: '#8a5a2b', other: '#9a9a9a',
};
const FAC_GROUPS = [
  ['education', '#1f5fbf', ['kindergarten', 'school', 'high_school', 'university']],
  ['health', '#c62828', ['hospital', 'clinic', 'pharmacy']],
  ['culture', '#7b3fa0', ['library', 'culture']],
  ['sport', '#2e7d32', ['sport']],
  ['citizen', '#b85c00', ['citizen_center']],
  ['wifi', '#00796b', ['public_wifi']],
];

const match = (field, pairs, fallback) => ['match', ['to-string', ['get', field]], ...pairs.flat(), fallback];

const facilityColor = ['match', ['get', 'kind'],
  ...FAC_GROUPS.flatMap(([, color, kinds]) => [kinds, color]), '#555555'];

const buildingColor = match('use', Object.entries(USE_COLORS), '#9a9a9a');
// Extrusion height: the height, else 3 m a floor, else 6 m.
export const extrusionHeight = ['coalesce', ['to-number', ['get', 'height_m'], null],
  ['*', 3, ['to-number', ['get', 'floors'], null]], 6];

// thematicLayers returns the MapLibre layers of each panel layer, drawn from the vector source
// sourceOf(layer), bottom to top. Ids start with "ct-".
export function thematicLayers(sourceOf) {
  const L = (name, spec) => ({ ...spec, source: sourceOf(name), 'source-layer': name, metadata: { panel: name } });
  const fill = (name, id, color, opacity, outline) => L(name, {
    id, type: 'fill', paint: { 'fill-color': color, 'fill-opacity': opacity, ...(outline ? { 'fill-outline-color': outline } : {}) },
  });
  return [
    fill('broadband', 'ct-broadband', ['step', ['to-number', ['get', 'max_down_mbps'], 0], '#d6f1f5', 100, '#5ec6d6', 1000, '#0e7490'], 0.45),
    fill('zoning', 'ct-zoning', ['step', ['to-number', ['get', 'max_height_m'], 0], '#fde9c9', 12, '#f7c27a', 30, '#e08e45', 60, '#9c4a1a'], 0.35),
    L('zoning', { id: 'ct-zoning-line', type: 'line', paint: { 'line-color': '#6b3d12', 'line-width': 1, 'line-dasharray': [3, 2] } }),
    L('flood', {
      id: 'ct-flood', type: 'fill', layout: { 'fill-sort-key': ['-', 0, ['to-number', ['get', 'return_period_years'], 0]] },
      paint: { 'fill-color': ['step', ['to-number', ['get', 'return_period_years'], 0], '#1e3a8a', 11, '#3b82f6', 101, '#93c5fd'], 'fill-opacity': 0.5 },
    }),
    L('noise', {
      id: 'ct-noise', type: 'fill', layout: { 'fill-sort-key': ['to-number', ['get', 'lden_db'], 0] },
      paint: { 'fill-color': ['step', ['to-number', ['get', 'lden_db'], 0], '#fde68a', 60, '#fbbf24', 65, '#f97316', 70, '#dc2626', 75, '#7e22ce'], 'fill-opacity': 0.45 },
    }),
    fill('parcels', 'ct-parcels', match('ownership', [['public', '#7fb3e0'], ['private', '#f0d9a8']], '#dddddd'), 0.35),
    L('parcels', { id: 'ct-parcels-line', type: 'line', paint: { 'line-color': '#7a5c32', 'line-width': 0.7 } }),
    fill('green_spaces', 'ct-green', ['case', ['==', ['to-string', ['get', 'public']], 'false'], '#b5dca6', '#3f9b4f'], 0.7, '#2a6b35'),
    fill('buildings', 'ct-buildings', buildingColor, 0.9, '#4a3b2a'),
    L('buildings', {
      id: 'ct-buildings-3d', type: 'fill-extrusion', layout: { visibility: 'none' },
      paint: { 'fill-extrusion-color': buildingColor, 'fill-extrusion-height': extrusionHeight, 'fill-extrusion-opacity': 0.9 },
    }),
    L('air_stations', {
      id: 'ct-air', type: 'circle',
      paint: {
        'circle-radius': 8, 'circle-stroke-color': '#1f2937', 'circle-stroke-width': 2,
        'circle-color': ['step', ['to-number', ['get', 'pm25'], 0], '#22c55e', 5.0001, '#facc15', 25.0001, '#dc2626'],
      },
    }),
    L('facilities', {
      id: 'ct-facilities', type: 'circle',
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 4, 16, 7, 19, 10],
        'circle-color': facilityColor, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5,
      },
    }),
  ];
}

// Legends: [{color, key, shape}] per panel layer; shape is fill, line or circle.
export const LEGENDS = {
  parcels: [['#7fb3e0', 'legend.parcel.public'], ['#f0d9a8', 'legend.parcel.private'], ['#dddddd', 'legend.parcel.unknown']],
  buildings: Object.entries(USE_COLORS).map(([u, c]) => [c, `val.use.${u}`]),
  zoning: [['#fde9c9', 'legend.zoning.h12'], ['#f7c27a', 'legend.zoning.h30'], ['#e08e45', 'legend.zoning.h60'], ['#9c4a1a', 'legend.zoning.hmax']],
  facilities: FAC_GROUPS.map(([g, c]) => [c, `legend.fac.${g}`, 'circle']),
  green_spaces: [['#3f9b4f', 'legend.green.public'], ['#b5dca6', 'legend.green.private']],
  noise: [55, 60, 65, 70, 75].map((b, i) => [['#fde68a', '#fbbf24', '#f97316', '#dc2626', '#7e22ce'][i], `legend.noise.${b}`]),
  flood: [['#1e3a8a', 'legend.flood.10'], ['#3b82f6', 'legend.flood.100'], ['#93c5fd', 'legend.flood.1000']],
  air_stations: [['#22c55e', 'legend.air.who', 'circle'], ['#facc15', 'legend.air.eu', 'circle'], ['#dc2626', 'legend.air.over', 'circle']],
  broadband: [['#0e7490', 'legend.bb.gig'], ['#5ec6d6', 'legend.bb.fast'], ['#d6f1f5', 'legend.bb.slow']],
};

// legendList builds the <ul> of a layer's legend.
export function legendList(name) {
  const ul = document.createElement('ul');
  ul.className = 'legend';
  ul.setAttribute('aria-label', t('legend.of', { layer: t(`layer.${name}`) }));
  for (const [color, key, shape = 'fill'] of LEGENDS[name] || []) {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = `swatch ${shape}`;
    sw.style.background = color;
    sw.setAttribute('aria-hidden', 'true');
    const label = document.createElement('span');
    label.textContent = t(key);
    li.append(sw, label);
    ul.append(li);
  }
  return ul;
}

// The source-layer names the map's clicks report, in the order a click prefers them.
export const CLICK_ORDER = ['facilities', 'air_stations', 'buildings', 'green_spaces', 'parcels', 'zoning', 'noise', 'flood', 'broadband', 'districts'];

const UNITS = {
  area_m2: 'unit.m2', gfa_m2: 'unit.m2', height_m: 'unit.m', max_height_m: 'unit.m',
  lden_db: 'unit.db', lnight_db: 'unit.db', return_period_years: 'unit.years',
  pm25: 'unit.ugm3', pm10: 'unit.ugm3', no2: 'unit.ugm3', max_down_mbps: 'unit.mbps', max_pot_pct: 'unit.pct',
};
const ENUM_FIELD = { use: 'use', kind: 'kind', ownership: 'ownership', source: 'source', technology: 'technology', change: 'change', capacity_unit: 'unit', land_use: 'use' };

// formatValue renders one attribute for people: translated enums, units, yes/no.
export function formatValue(field, v) {
  if (v === null || v === undefined || v === '') return '–';
  if (typeof v === 'boolean' || v === 'true' || v === 'false') return t(String(v) === 'true' ? 'yes' : 'no');
  if (field === 'allowed_uses') {
    return String(v).split(',').map((u) => u.trim()).filter(Boolean).map((u) => t(`val.use.${u}`)).join(', ');
  }
  if (ENUM_FIELD[field] && has(`val.${ENUM_FIELD[field]}.${v}`)) return t(`val.${ENUM_FIELD[field]}.${v}`);
  if (field === 'year_built' || field === 'year') return Number(v) === 0 ? '–' : String(v);
  if (typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) && field !== 'cad_number' && field !== 'code')) {
    const n = Number(v);
    const s = fmt(n, Number.isInteger(n) ? 0 : 1);
    return UNITS[field] ? t(UNITS[field], { v: s }) : s;
  }
  return String(v);
}

// The fields of a feature to show: the layer's public fields in catalog order that it has,
// then anything else it carries (a scenario's "change").
export function fieldsOf(layer, props) {
  const known = FIELDS[layer] || [];
  const out = known.filter((f) => f in props);
  for (const k of Object.keys(props)) if (!out.includes(k) && k !== 'id') out.push(k);
  return out;
}

const isTrue = (v) => v === true || v === 'true';

// featureTitle names a feature for people: its layer, then its name, else its kind or use.
export function featureTitle(layer, props) {
  const title = props.name || (props.kind ? formatValue('kind', props.kind) : '') || (props.use ? formatValue('use', props.use) : '')
    || (props.code ? String(props.code) : '') || (props.cad_number ? String(props.cad_number) : '');
  return title ? `${t(`layer.${layer}`)}: ${title}` : t(`layer.${layer}`);
}

// Fields told in words elsewhere: "derived" is the modelled note, the capacity's unit goes
// with the capacity.
const TOLD_APART = new Set(['derived', 'capacity_unit']);

// featureInfo renders a feature's public attributes for people as a definition list: names
// and meanings, not database columns; a modelled feature says so in one line. Every value
// carries its raw form in data-value (the feature's id and modelled flag are on the wrapper)
// so tests and scripts can read them.
export function featureInfo(layer, id, props) {
  const wrap = document.createElement('div');
  wrap.className = 'feature-info';
  wrap.dataset.layer = layer;
  if (id !== undefined && id !== null) wrap.dataset.id = String(id);
  if ('derived' in props) wrap.dataset.modelled = String(isTrue(props.derived));
  const h = document.createElement('h3');
  h.textContent = featureTitle(layer, props);
  const dl = document.createElement('dl');
  const row = (field, label, raw, text) => {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.dataset.field = field;
    dd.dataset.value = raw === undefined || raw === null ? '' : String(raw);
    if (field === 'regulation_url' && /^https?:\/\//.test(String(raw))) {
      const a = document.createElement('a');
      a.href = String(raw);
      a.rel = 'noopener';
      a.textContent = String(raw);
      dd.append(a);
    } else dd.textContent = text;
    dl.append(dt, dd);
  };
  for (const f of fieldsOf(layer, props)) {
    if (TOLD_APART.has(f)) continue;
    let text = formatValue(f, props[f]);
    if (f === 'capacity') {
      const n = Number(props.capacity);
      const unit = props.capacity_unit ? formatValue('capacity_unit', props.capacity_unit) : '';
      text = !n ? t('info.unknown') : (unit ? `${fmt(n)} ${unit}` : fmt(n));
    }
    row(f, has(`field.${f}`) ? t(`field.${f}`) : f, props[f], text);
  }
  wrap.append(h, dl);
  if (isTrue(props.derived)) {
    const note = document.createElement('p');
    note.className = 'modelled-note';
    const b = document.createElement('strong');
    b.textContent = t('modelled.word');
    note.append(b, ` ${t('modelled.means')}`);
    wrap.append(note);
  }
  return wrap;
}
