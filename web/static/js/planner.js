// The planner's workspace at /planner: sign in with a planner token, list/create/clone/delete
// scenarios, add changes (draw polygons, place points, pick features, or type coordinates),
// run, read the dashboard (baseline, scenario, difference; per district; access bars;
// violations that zoom the map), compare scenarios and export a run.
import { t, initLangSwitch, onLangChange, fmt, fmtPct, fmtDistance, has, lang } from './i18n.js';
import { createCityMap, maplibregl, setPanelLayer, featuresAt } from './mapbase.js';
import { api, ApiError, list, setToken, getToken } from './api.js';
import { USE_COLORS, featureInfo } from './thematic.js';

initLangSwitch();

const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
};
const TOKEN_KEY = 'citytwin.plannerToken';

const state = {
  scenarios: [], current: null, changes: [], run: null, scope: 'city', compare: new Set(),
  draw: { active: false, coords: [] }, point: null, readOnly: false,
  walk: { pick: false, origin: null, key: '' }, // the planner's walk: where it starts, and the scenario version it shows runGeoms: null, comparison: null, allViolations: false, quality: null,
  warnings: new Map(), // change id → the warnings the API gave when it was added (this session)
};

function status(msg, isError = false) {
  const s = $('#status');
  s.textContent = msg || '';
  s.classList.toggle('error', isError);
}

// --- Change kinds and their forms ----------------------------------------------------------
const BUILDING_USES = Object.keys(USE_COLORS);
const FACILITY_KINDS = ['kindergarten', 'school', 'high_school', 'university', 'hospital', 'clinic', 'pharmacy', 'library', 'culture', 'sport', 'citizen_center', 'public_wifi'];
const GREEN_KINDS = ['park', 'garden', 'forest', 'playground', 'square'];
const TECHNOLOGIES = ['fibre', 'cable', 'dsl', '5g', '4g'];

const KINDS = {
  add_building: { geom: 'polygon', props: ['use', 'floors', 'height_m', 'dwellings', 'year_built'] },
  modify_building: { target: 'buildings', props: ['use', 'floors', 'height_m', 'dwellings'] },
  demolish_building: { target: 'buildings', props: [] },
  rezone: { target: 'zoning', geom: 'polygon', either: true, props: ['code', 'name', 'allowed_uses', 'max_pot_pct', 'max_cut', 'max_height_m', 'max_floors'] },
  add_facility: { geom: 'point', props: ['fkind', 'name', 'capacity', 'capacity_unit'] },
  modify_facility: { target: 'facilities', props: ['name', 'capacity', 'capacity_unit'] },
  remove_facility: { target: 'facilities', props: [] },
  add_green_space: { geom: 'polygon', props: ['gkind', 'public'] },
  remove_green_space: { target: 'green_spaces', props: [] },
  set_broadband: { geom: 'polygon', props: ['technology', 'max_down_mbps'] },
  add_footpath: { geom: 'line', props: ['name'] },
  close_street: { target: 'streets', props: [] },
};
const isDrawn = (spec) => spec && (spec.geom === 'polygon' || spec.geom === 'line');
// Property inputs: the API name, the input type, and for selects the options and their labels.
const PROPS = {
  use: { name: 'use', type: 'select', options: BUILDING_USES, label: (v) => t(`val.use.${v}`) },
  floors: { name: 'floors', type: 'int', min: 0, max: 200 },
  height_m: { name: 'height_m', type: 'number', min: 0, max: 1000, step: '0.1' },
  dwellings: { name: 'dwellings', type: 'int', min: 0 },
  year_built: { name: 'year_built', type: 'int', min: 0, max: 2200 },
  fkind: { name: 'kind', type: 'select', options: FACILITY_KINDS, label: (v) => t(`val.kind.${v}`) },
  gkind: { name: 'kind', type: 'select', options: GREEN_KINDS, label: (v) => t(`val.kind.${v}`) },
  name: { name: 'name', type: 'text' },
  code: { name: 'code', type: 'text' },
  capacity: { name: 'capacity', type: 'int', min: 0 },
  capacity_unit: { name: 'capacity_unit', type: 'text' },
  public: { name: 'public', type: 'checkbox', checked: true },
  allowed_uses: { name: 'allowed_uses', type: 'list', hint: 'tool.allowed_uses.hint' },
  max_pot_pct: { name: 'max_pot_pct', type: 'number', min: 0, max: 100, step: '0.1' },
  max_cut: { name: 'max_cut', type: 'number', min: 0, max: 20, step: '0.01' },
  max_height_m: { name: 'max_height_m', type: 'number', min: 0, max: 1000, step: '0.1' },
  max_floors: { name: 'max_floors', type: 'int', min: 0, max: 200 },
  technology: { name: 'technology', type: 'select', options: TECHNOLOGIES, label: (v) => t(`val.technology.${v}`) },
  max_down_mbps: { name: 'max_down_mbps', type: 'number', min: 0 },
};

function kindSelect() {
  const sel = $('#change-kind');
  const cur = sel.value || 'add_building';
  sel.replaceChildren(...Object.keys(KINDS).map((k) => el('option', { value: k, textContent: t(`kind.${k}`) })));
  sel.value = cur;
}

// buildChangeForm shows the parts of the form the chosen kind needs, keeping typed values.
let formKind = '';
function buildChangeForm() {
  const kind = $('#change-kind').value;
  const spec = KINDS[kind];
  // Typed values survive a rebuild of the same form (a language switch), not a new kind.
  const kept = {};
  if (kind === formKind) {
    for (const inp of $('#prop-fields').querySelectorAll('input, select')) {
      kept[inp.name] = inp.type === 'checkbox' ? inp.checked : inp.value;
    }
  } else {
    $('#target').value = '';
  }
  formKind = kind;
  $('#geom-polygon').hidden = !isDrawn(spec);
  $('#draw-line-hint').hidden = spec.geom !== 'line';
  $('#geom-polygon .draw-hint').hidden = spec.geom === 'line';
  $('#geom-point').hidden = spec.geom !== 'point';
  $('#target-row').hidden = !spec.target;
  $('#target-hint').textContent = spec.either ? t('tool.rezone.hint') : t('tool.target.hint');
  if (!isDrawn(spec)) stopDrawing();
  renderDraw();
  const box = $('#prop-fields');
  box.replaceChildren();
  for (const key of spec.props) {
    const p = PROPS[key];
    const id = `prop-${p.name}`;
    const err = el('p', { id: `${id}-error`, className: 'field-error' });
    let input;
    if (p.type === 'select') {
      input = el('select', { id, name: p.name }, ...p.options.map((v) => el('option', { value: v, textContent: p.label(v) })));
    } else if (p.type === 'checkbox') {
      input = el('input', { id, name: p.name, type: 'checkbox', checked: p.checked });
    } else {
      input = el('input', { id, name: p.name, type: 'text', autocomplete: 'off' });
      if (p.type === 'int' || p.type === 'number') input.inputMode = p.type === 'int' ? 'numeric' : 'decimal';
    }
    input.setAttribute('aria-describedby', `${id}-error${p.hint ? ` ${id}-hint` : ''}`);
    if (p.name in kept) {
      if (p.type === 'checkbox') input.checked = kept[p.name]; else if (kept[p.name] !== '') input.value = kept[p.name];
    }
    const label = el('label', { htmlFor: id, textContent: t(`field.${p.name}`) });
    const row = el('div', { className: p.type === 'checkbox' ? 'check-row' : '' });
    if (p.type === 'checkbox') row.append(input, label); else row.append(label, input);
    if (p.hint) row.append(el('p', { id: `${id}-hint`, className: 'muted small', textContent: t(p.hint) }));
    row.append(err);
    box.append(row);
  }
  clearErrors();
  updateDrawStatus();
}

function clearErrors() {
  $('#form-error').textContent = '';
  for (const e of document.querySelectorAll('#change-form .field-error')) e.textContent = '';
  for (const e of document.querySelectorAll('#change-form [aria-invalid]')) e.removeAttribute('aria-invalid');
}

// plannerWords turns an API error ({field, code, message}) into words a planner uses, in the
// page's language: the API's messages are for developers ("ring has 3 positions, needs at
// least 4", "want a number, got string"). kind is the change kind, for the target's noun.
function plannerWords(err, kind) {
  const f = err.field || '';
  const m = String(err.message || '');
  if (err.status === 409 || err.status === 412 || err.status === 428) return t('pl.err.conflict');
  if (err.code === 'not_number') return t('pl.err.number');
  if (err.code === 'bad_coords') return t('pl.err.coords');
  if (f.startsWith('geometry') && /touches no street/.test(m)) {
    const far = /nearest is ([\d.]+) m/.exec(m);
    const end = t(/'s start/.test(m) ? 'pw.end.start' : 'pw.end.end');
    return far ? t('pw.err.end.far', { end, m: fmt(Number(far[1]), 0) }) : t('pw.err.end', { end });
  }
  if (f.startsWith('geometry') && /two positions apart/.test(m)) return t('pw.err.short');
  if (f === 'target' && kind === 'close_street') {
    if (/closed by an earlier change/.test(m)) return t('pw.err.street.closed');
    if (/no street/.test(m)) return t('pw.err.street.none');
  }
  if (f.startsWith('geometry')) {
    const point = KINDS[kind]?.geom === 'point';
    if (/needs a geometry|missing/.test(m)) return t(point ? 'pl.err.point.missing' : 'pl.err.shape.missing');
    if (/outside the city/.test(m)) return t(point ? 'pl.err.point.outside' : 'pl.err.shape.outside');
    if (/needs at least 4|no ring|needs longitude and latitude/.test(m)) return t('pl.err.shape.corners');
    if (/intersects itself|crosses/.test(m)) return t('pl.err.shape.crosses');
    if (/at most \d+ (are )?allowed|positions or more/.test(m)) return t('pl.err.shape.many');
    if (/holds .*got a|not supported|not a GeoJSON/.test(m)) return t('pl.err.shape.type');
  }
  if (f === 'target') {
    const noun = t(`pl.noun.${KINDS[kind]?.target || 'buildings'}`);
    if (/needs the id|needs a target/.test(m)) return t('pl.err.target.missing', { noun });
    if (/removed by an earlier change/.test(m)) return t('pl.err.target.removed', { noun });
    if (/no feature|not a feature id|has no kind/.test(m)) return t('pl.err.target.none', { noun });
  }
  if (f === 'properties' && /changes nothing|needs its rules/.test(m)) return t('pl.err.target.nothing');
  if (f.startsWith('properties.')) {
    const range = /is outside (-?[\d.e+]+)\.\.(-?[\d.e+]+)/.exec(m);
    if (range) return t('pl.err.range', { min: fmt(Number(range[1]), 2), max: fmt(Number(range[2]), 2) });
    if (/want a whole number/.test(m)) return t('pl.err.whole');
    if (/want a (finite )?number/.test(m)) return t('pl.err.number');
    if (/is not one of|want true or false|list of strings/.test(m)) return t('pl.err.choose');
    if (/needs properties\.|missing/.test(m)) return t('pl.err.required');
  }
  if (f === 'name') return t(/longer than/.test(m) ? 'pl.err.name.long' : 'pl.err.name.missing');
  if (f === 'description') return t('pl.err.description.long');
  if (/missing/.test(m)) return t('pl.err.required');
  return t('pl.err.other');
}

// fieldLabel names the form field an API error field points to, in the page's language.
function fieldLabel(f, kind) {
  if (f.startsWith('geometry')) return t(KINDS[kind]?.geom === 'point' ? 'tool.point' : 'tool.coords');
  if (f === 'target') return t(`pl.noun.${KINDS[kind]?.target || 'buildings'}`);
  const name = f.startsWith('properties.') ? f.slice('properties.'.length).split(/[.[]/)[0] : '';
  return name && has(`field.${name}`) ? t(`field.${name}`) : '';
}

// showFieldError puts a planner's wording of the API's error beside the field it names and
// moves focus there; the summary above names the field too.
function showFieldError(err) {
  clearErrors();
  const kind = $('#change-kind').value;
  const f = err.field || '';
  let input = null;
  let box = null;
  if (f === 'target') { input = $('#target'); box = $('#target-error'); }
  else if (f.startsWith('geometry')) {
    if (KINDS[kind].geom === 'point') { input = $('#pt-lon'); box = $('#point-error'); }
    else { input = $('#coords'); box = $('#geometry-error'); }
  } else if (f.startsWith('properties.')) {
    const name = f.slice('properties.'.length).split(/[.[]/)[0];
    input = document.getElementById(`prop-${name}`);
    box = document.getElementById(`prop-${name}-error`);
  }
  const msg = plannerWords(err, kind);
  const label = fieldLabel(f, kind);
  $('#form-error').textContent = `${t('err.title')}: ${label ? `${label}: ` : ''}${msg}`;
  $('#form-error').dataset.code = err.code || '';
  $('#form-error').dataset.field = f;
  if (box) box.textContent = msg;
  if (input && !input.closest('[hidden]')) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

// --- Drawing ---------------------------------------------------------------------------------
let map;

function drawData() {
  const c = state.draw.coords;
  const feats = c.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } }));
  const line = KINDS[$('#change-kind').value]?.geom === 'line';
  if (c.length >= 3 && !line) feats.push({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[...c, c[0]]] } });
  else if (c.length >= 2) feats.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: c } });
  if (state.point) feats.push({ type: 'Feature', properties: { point: true }, geometry: { type: 'Point', coordinates: state.point } });
  return { type: 'FeatureCollection', features: feats };
}
function renderDraw() {
  if (map && map.getSource('pl-draw')) map.getSource('pl-draw').setData(drawData());
}
function syncCoordsText() {
  $('#coords').value = state.draw.coords.map(([x, y]) => `${x.toFixed(6)}, ${y.toFixed(6)}`).join('\n');
}
function updateDrawStatus(done = false) {
  const n = state.draw.coords.length;
  const line = KINDS[$('#change-kind').value]?.geom === 'line';
  $('#draw-status').textContent = done ? t(line ? 'pw.line.done' : 'tool.draw.done', { n }) : (n || state.draw.active ? t('tool.draw.count', { n }) : '');
  $('#draw-start').setAttribute('aria-pressed', String(state.draw.active));
}
function startDrawing() {
  state.draw.active = true;
  if (map) map.doubleClickZoom.disable();
  updateDrawStatus();
}
function stopDrawing() {
  state.draw.active = false;
  if (map) map.doubleClickZoom.enable();
}
function addVertex(lngLat) {
  state.draw.coords.push([lngLat.lng, lngLat.lat]);
  syncCoordsText();
  renderDraw();
  updateDrawStatus();
}
function finishDrawing() {
  stopDrawing();
  // A double-click also clicks twice: drop the repeated corners it leaves.
  const c = state.draw.coords;
  state.draw.coords = c.filter((p, i) => i === 0 || Math.abs(p[0] - c[i - 1][0]) > 1e-9 || Math.abs(p[1] - c[i - 1][1]) > 1e-9);
  syncCoordsText();
  updateDrawStatus(state.draw.coords.length >= (KINDS[$('#change-kind').value]?.geom === 'line' ? 2 : 3));
  renderDraw();
}

// parseCoords reads "lon, lat" lines; the textarea is what is sent, so typed coordinates work
// without the map.
function parseCoords(text) {
  const pts = [];
  for (const line of text.split(/\n+/)) {
    const s = line.trim();
    if (!s) continue;
    const parts = s.split(/[\s,;]+/).filter(Boolean).map(Number);
    if (parts.length !== 2 || parts.some((n) => !Number.isFinite(n))) return { error: line };
    pts.push(parts);
  }
  return { pts };
}

// --- Building a change from the form ------------------------------------------------------------
function readChange() {
  const kind = $('#change-kind').value;
  const spec = KINDS[kind];
  const change = { kind };
  if (spec.target) {
    const v = $('#target').value.trim();
    if (v) change.target = v;
  }
  if (spec.geom === 'polygon') {
    const { pts, error } = parseCoords($('#coords').value);
    if (error !== undefined) return { clientError: { field: 'geometry', code: 'bad_coords', message: error } };
    if (pts.length) {
      const ring = [...pts];
      const [a, b] = [ring[0], ring[ring.length - 1]];
      if (a[0] !== b[0] || a[1] !== b[1]) ring.push([...a]);
      change.geometry = { type: 'Polygon', coordinates: [ring] };
    }
    if (spec.either && change.geometry) delete change.target;
  }
  if (spec.geom === 'line') {
    const { pts, error } = parseCoords($('#coords').value);
    if (error !== undefined) return { clientError: { field: 'geometry', code: 'bad_coords', message: error } };
    if (pts.length) change.geometry = { type: 'LineString', coordinates: pts };
  }
  if (spec.geom === 'point') {
    const lon = $('#pt-lon').value.trim();
    const lat = $('#pt-lat').value.trim();
    if (lon || lat) change.geometry = { type: 'Point', coordinates: [Number(lon.replace(',', '.')), Number(lat.replace(',', '.'))] };
  }
  const props = {};
  for (const key of spec.props) {
    const p = PROPS[key];
    const inp = document.getElementById(`prop-${p.name}`);
    if (!inp) continue;
    if (p.type === 'checkbox') { props[p.name] = inp.checked; continue; }
    const v = inp.value.trim();
    if (v === '') continue;
    if (p.type === 'int' || p.type === 'number') {
      const n = Number(v.replace(',', '.'));
      if (!Number.isFinite(n)) return { clientError: { field: `properties.${p.name}`, code: 'not_number', message: v } };
      props[p.name] = n;
    } else if (p.type === 'list') {
      props[p.name] = v.split(',').map((s) => s.trim()).filter(Boolean);
    } else props[p.name] = v;
  }
  if (Object.keys(props).length) change.properties = props;
  return { change };
}

async function submitChange(e) {
  e.preventDefault();
  if (!state.current) return;
  const { change, clientError } = readChange();
  if (clientError) { showFieldError(clientError); return; }
  const btn = $('#change-submit');
  btn.disabled = true;
  try {
    const res = await api(`/api/scenarios/${state.current.id}/changes`, { method: 'POST', body: change });
    clearErrors();
    const warnings = res?.warnings || [];
    for (const c of res?.changes || []) state.warnings.set(c.id, warnings.filter((w) => w.change_id === c.id));
    showWarnings(warnings, change.kind);
    status(t('ch.added', { kind: t(`kind.${change.kind}`) }));
    state.draw.coords = [];
    state.point = null;
    syncCoordsText();
    renderDraw();
    updateDrawStatus();
    await openScenario(state.current.id, { keepRun: true });
  } catch (err) {
    if (err instanceof ApiError) showFieldError(err);
    else showFieldError({ message: t('err.network') });
    // Someone else changed the scenario meanwhile: show it as it is now.
    if (err instanceof ApiError && [409, 412, 428].includes(err.status)) await openScenario(state.current.id, { keepRun: true }).catch(() => {});
  } finally {
    btn.disabled = false;
  }
}

// warningWords says a warning of the API (scenarios/warnings.go) in the page's language.
function warningWords(w, kind) {
  const what = t(`pl.the.${LAYER_OF_KIND[kind] === 'facilities' ? 'facilities' : 'buildings'}`);
  if (w.code === 'in_public_park') {
    return t('pl.warn.in_public_park', { what, park: featureLabel('green_spaces', { name: w.name, kind: w.kind }) });
  }
  if (w.code === 'in_flood_zone') return t('pl.warn.in_flood_zone', { what, years: fmt(w.return_period_years) });
  return w.message || w.code;
}

// showWarnings lists the warnings of the change just added (none clears the list).
function showWarnings(warnings, kind) {
  state.lastWarnings = { warnings, kind };
  const box = $('#change-warnings');
  box.replaceChildren();
  if (!warnings.length) return;
  box.append(el('p', { textContent: t('pl.warn.title') }), el('ul', {}, ...warnings.map((w) => {
    const li = el('li', { textContent: warningWords(w, kind) });
    li.dataset.code = w.code;
    return li;
  })));
}

// --- Scenarios ---------------------------------------------------------------------------------
async function loadScenarios() {
  state.scenarios = list(await api('/api/scenarios'), 'scenarios');
  renderScenarios();
}

function renderScenarios() {
  const ul = $('#scenario-list');
  ul.replaceChildren();
  if (!state.scenarios.length) {
    ul.append(el('li', { className: 'muted', textContent: t('sc.none') }));
  }
  for (const sc of state.scenarios) {
    const nameId = `sc-${sc.id}-name`;
    const li = el('li', { className: state.current?.id === sc.id ? 'current' : '' });
    li.dataset.id = sc.id;
    const cmp = el('input', { type: 'checkbox', id: `cmp-${sc.id}`, checked: state.compare.has(sc.id) });
    cmp.addEventListener('change', () => {
      if (cmp.checked) state.compare.add(sc.id); else state.compare.delete(sc.id);
      $('#compare').disabled = state.compare.size < 2 || state.compare.size > 3;
    });
    const btn = (key, cls, fn) => {
      const b = el('button', { type: 'button', className: cls, textContent: t(key) });
      b.setAttribute('aria-describedby', nameId);
      b.addEventListener('click', fn);
      return b;
    };
    li.append(
      el('strong', { id: nameId, textContent: sc.name || sc.id }),
      el('div', { className: 'meta', textContent: `${t('sc.version', { v: sc.version })} · ${t('sc.changes', { n: sc.changes ?? 0 })}` }),
      el('div', { className: 'actions' },
        btn('sc.open', '', () => openScenario(sc.id)),
        btn('sc.clone', 'secondary', () => cloneScenario(sc)),
        btn('sc.delete', 'danger', () => deleteScenario(sc)),
        el('span', {}, cmp, el('label', { htmlFor: `cmp-${sc.id}`, textContent: t('sc.compare') }))),
    );
    cmp.setAttribute('aria-label', t('sc.compare.pick', { name: sc.name || sc.id }));
    ul.append(li);
  }
  $('#compare').disabled = state.compare.size < 2 || state.compare.size > 3;
}

async function createScenario(e) {
  e.preventDefault();
  const name = $('#sc-name').value.trim();
  const description = $('#sc-desc').value.trim();
  for (const id of ['sc-name-error', 'sc-description-error']) $(`#${id}`).textContent = '';
  $('#sc-name').removeAttribute('aria-invalid');
  try {
    const sc = await api('/api/scenarios', { method: 'POST', body: { name, description } });
    $('#sc-name').value = '';
    $('#sc-desc').value = '';
    status(t('sc.created', { name: sc.name }));
    await loadScenarios();
    await openScenario(sc.id);
  } catch (err) {
    const field = err.field === 'description' ? 'description' : 'name';
    $(`#sc-${field}-error`).textContent = err instanceof ApiError ? plannerWords(err, '') : t('err.network');
    const inp = field === 'name' ? $('#sc-name') : $('#sc-desc');
    inp.setAttribute('aria-invalid', 'true');
    inp.focus();
  }
}

async function cloneScenario(sc) {
  try {
    const c = await api(`/api/scenarios/${sc.id}/clone`, { method: 'POST', body: { name: t('sc.clone.name', { name: sc.name }) } });
    status(t('sc.cloned', { name: c.name }));
    await loadScenarios();
    await openScenario(c.id);
  } catch (err) { status(t('err.generic', { msg: err.message }), true); }
}

async function deleteScenario(sc) {
  if (!window.confirm(t('sc.delete.confirm', { name: sc.name }))) return;
  try {
    await api(`/api/scenarios/${sc.id}`, { method: 'DELETE' });
    state.compare.delete(sc.id);
    if (state.current?.id === sc.id) closeScenario();
    status(t('sc.deleted'));
    await loadScenarios();
  } catch (err) { status(t('err.generic', { msg: err.message }), true); }
}

// --- Features and changes in words ------------------------------------------------------------
// The layer each change kind acts on, the first id of features a scenario adds
// (scenarios.AddedIDBase) and the features looked up for their names and shapes.
const LAYER_OF_KIND = {
  add_building: 'buildings', modify_building: 'buildings', demolish_building: 'buildings', rezone: 'zoning',
  add_facility: 'facilities', modify_facility: 'facilities', remove_facility: 'facilities',
  add_green_space: 'green_spaces', remove_green_space: 'green_spaces', set_broadband: 'broadband',
  add_footpath: 'streets', close_street: 'streets',
};
const ADDED_ID_BASE = 2 ** 50;
const known = new Map(); // "layer/id" → {geometry, properties}, or null when the city has none
const UNITS = { height_m: 'unit.m', max_height_m: 'unit.m', area_m2: 'unit.m2', gfa_m2: 'unit.m2', max_down_mbps: 'unit.mbps', max_pot_pct: 'unit.pct', return_period_years: 'unit.years' };

// valueWords is a property's value as the page's language says it.
function valueWords(name, v) {
  if (Array.isArray(v)) return v.map((x) => valueWords(name, x)).join(', ');
  if (typeof v === 'boolean') return t(v ? 'yes' : 'no');
  for (const group of ['use', 'kind', 'technology']) {
    if ((name === group || (group === 'use' && name === 'allowed_uses')) && has(`val.${group}.${v}`)) return t(`val.${group}.${v}`);
  }
  if (typeof v === 'number') {
    const n = fmt(v, Number.isInteger(v) ? 0 : 2);
    return UNITS[name] ? t(UNITS[name], { v: n }) : n;
  }
  return String(v ?? '–');
}

// featureLabel names a feature for a planner: its name, else what it is (a residential
// building of 4 floors, a park, zone L1a, parcel MC-000001).
function featureLabel(layer, props = {}) {
  const noun = has(`pl.noun.${layer}`) ? t(`pl.noun.${layer}`) : layer;
  if (props.name) return `${noun} “${props.name}”`;
  const what = [];
  if (layer === 'buildings') {
    if (props.use) what.push(valueWords('use', props.use));
    if (props.floors) what.push(t('pl.floors', { n: fmt(props.floors) }));
  } else if (layer === 'zoning' || layer === 'parcels') {
    if (props.code || props.cad_number) what.push(props.code || props.cad_number);
  } else if (props.kind || props.technology) {
    what.push(valueWords(props.kind ? 'kind' : 'technology', props.kind || props.technology));
  }
  return what.length ? `${noun} (${what.join(', ')})` : noun;
}

// lookUp finds a feature's shape and properties: one the scenario added from its change, one
// of the city from the public OGC API (cached).
async function lookUp(layer, id) {
  const key = `${layer}/${id}`;
  if (Number(id) >= ADDED_ID_BASE) {
    const c = state.changes.find((x) => String(x.feature_id) === String(id));
    return c?.geometry ? { geometry: c.geometry, properties: c.properties || {} } : null;
  }
  if (known.has(key)) return known.get(key);
  let f = null;
  try {
    const g = await api(`/ogc/collections/${encodeURIComponent(layer)}/items/${encodeURIComponent(id)}`);
    if (g?.geometry) f = { geometry: g.geometry, properties: g.properties || {} };
  } catch { /* not in the city: f stays null */ }
  known.set(key, f);
  return f;
}

// changeTarget is the layer and id of the feature a change adds or acts on.
function changeTarget(c) {
  return { layer: LAYER_OF_KIND[c.kind], id: c.target || c.feature_id };
}

// changeWords says a change in the page's language: its kind, the feature it acts on, the
// values it sets with their names and units.
function changeWords(c) {
  const { layer } = changeTarget(c);
  let s = t(`kind.${c.kind}`);
  if (c.target) {
    const f = Number(c.target) >= ADDED_ID_BASE
      ? state.changes.find((x) => String(x.feature_id) === String(c.target))
      : known.get(`${layer}/${c.target}`);
    s += `: ${featureLabel(layer, f?.properties || {})}`;
  }
  const props = Object.entries(c.properties || {}).map(([k, v]) => `${has(`field.${k}`) ? t(`field.${k}`) : k.replace(/_/g, ' ')}: ${valueWords(k, v)}`);
  return props.length ? `${s} (${props.join('; ')})` : s;
}

// changeShape is the geometry a change shows on the map: its own, or its target's.
async function changeShape(c) {
  if (c.geometry) return c.geometry;
  const { layer, id } = changeTarget(c);
  return id ? (await lookUp(layer, id))?.geometry || null : null;
}

// highlight outlines a geometry in yellow, fits the map to it and says so.
function highlight(geometry, key, what) {
  if (!map || !geometry) return;
  map.getSource('pl-highlight').setData({ type: 'Feature', properties: {}, geometry });
  const b = bboxOf(geometry);
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 80, maxZoom: 18, duration: 500 });
  $('#map').dataset.highlight = key;
  $('#map').scrollIntoView({ block: 'nearest' });
  status(t('pl.shown', { what }));
}

async function showChange(c) {
  const g = await changeShape(c);
  if (!g) { status(t('pl.noshape')); return; }
  const { layer, id } = changeTarget(c);
  highlight(g, `${layer}/${id}`, changeWords(c));
}

// fitToChanges fits the map to every change of the open scenario.
async function fitToChanges() {
  const shapes = (await Promise.all(state.changes.map(changeShape))).filter(Boolean);
  if (!shapes.length || !map) return;
  const b = shapes.map(bboxOf).reduce((a, x) => [Math.min(a[0], x[0]), Math.min(a[1], x[1]), Math.max(a[2], x[2]), Math.max(a[3], x[3])]);
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 60, maxZoom: 17, duration: 0 });
  $('#map').dataset.fitted = state.current?.id || '';
}

// --- Runs: the API keeps each scenario's last runs (GET /api/scenarios/{id}/runs) ---------------
// loadLastRun shows the scenario's most recent run, whichever version it ran.
async function loadLastRun(id) {
  try {
    const runs = list(await api(`/api/scenarios/${encodeURIComponent(id)}/runs`), 'runs');
    if (!runs.length || state.current?.id !== id) return;
    const run = await api(`/api/scenarios/${encodeURIComponent(id)}/runs/${encodeURIComponent(runs[0].id)}`);
    if (state.current?.id !== id || state.run) return;
    state.run = run;
    state.runGeoms = null;
    renderDashboard();
  } catch (err) {
    status(t('err.generic', { msg: err instanceof ApiError ? plannerWords(err, '') : t('err.network') }), true);
  }
}

async function openScenario(id, { keepRun = false, fit = true } = {}) {
  const [sc, ch] = await Promise.all([api(`/api/scenarios/${encodeURIComponent(id)}`), api(`/api/scenarios/${encodeURIComponent(id)}/changes`)]);
  const switched = state.current?.id !== id;
  // Without a token the page shows a published scenario to read, not to change.
  state.readOnly = !getToken();
  $('#change-form').hidden = state.readOnly;
  $('#run').hidden = state.readOnly;
  if (switched) clearWalk();
  state.current = sc;
  state.changes = list(ch, 'changes');
  const i = state.scenarios.findIndex((x) => x.id === sc.id);
  if (i >= 0) state.scenarios[i] = sc;
  if (switched || !keepRun) { state.run = null; state.runGeoms = null; }
  renderDashboard(); // a kept run may now be of an older version than the scenario
  if (switched) showWarnings([], '');
  $('#current').hidden = false;
  renderCurrent();
  renderScenarios();
  showVariant();
  writeHash();
  if (!switched && state.walk.origin) walkFrom(state.walk.origin); // the walk follows the scenario's changes
  // The targets' names, then the scenario's place on the map and its last run.
  await Promise.all(state.changes.filter((c) => c.target).map((c) => lookUp(LAYER_OF_KIND[c.kind], c.target)));
  if (state.current?.id !== id) return;
  renderCurrent();
  if (switched) {
    if (fit) await fitToChanges();
    if (!state.run) await loadLastRun(id);
  }
}

function closeScenario() {
  state.current = null;
  state.changes = [];
  state.run = null;
  $('#current').hidden = true;
  clearWalk();
  linkedScenario = '';
  renderDashboard();
  showVariant();
  writeHash();
}

function renderCurrent() {
  const sc = state.current;
  if (!sc) return;
  $('#current-title').textContent = t('sc.current', { name: sc.name || sc.id });
  $('#current-meta').textContent = `${t('sc.version', { v: sc.version })} · ${t('sc.changes', { n: state.changes.length })}`;
  const ol = $('#change-list');
  ol.replaceChildren();
  if (!state.changes.length) ol.append(el('li', { className: 'muted', textContent: t('ch.none') }));
  state.changes.forEach((c, i) => {
    const words = changeWords(c);
    const li = el('li', {}, el('span', { className: 'change-words', textContent: words }));
    li.dataset.kind = c.kind;
    li.dataset.id = c.id;
    for (const w of state.warnings.get(c.id) || []) {
      const p = el('span', { className: 'change-warning', textContent: t('pl.warn.change', { text: warningWords(w, c.kind) }) });
      p.dataset.code = w.code;
      li.append(' ', p);
    }
    const show = el('button', { type: 'button', className: 'secondary', textContent: t('pl.show') });
    show.dataset.action = 'show';
    show.setAttribute('aria-label', `${t('pl.show')}: ${i + 1}. ${words}`);
    show.addEventListener('click', () => showChange(c));
    const b = el('button', { type: 'button', className: 'danger', textContent: t('ch.remove') });
    b.setAttribute('aria-label', t('ch.remove.label', { n: i + 1, kind: t(`kind.${c.kind}`) }));
    b.addEventListener('click', async () => {
      try {
        await api(`/api/scenarios/${sc.id}/changes/${c.id}`, { method: 'DELETE' });
        status(t('ch.removed'));
        await openScenario(sc.id, { keepRun: true });
      } catch (err) { status(t('err.generic', { msg: err instanceof ApiError ? plannerWords(err, c.kind) : t('err.network') }), true); }
    });
    li.append(el('span', { className: 'change-actions' }, show, state.readOnly ? null : b));
    ol.append(li);
  });
}

// --- Run and dashboard -----------------------------------------------------------------------------
const KPI_KEYS = ['residents', 'dwellings', 'jobs', 'violations', 'fifteen_minute_city', 'green_m2_per_resident'];
const ACCESS_KEYS = ['access_kindergarten', 'access_school', 'access_high_school', 'access_clinic', 'access_pharmacy', 'access_library', 'access_citizen_center', 'green_access', 'fifteen_minute_city'];
const isShare = (k) => /(_share$|^access_|^fifteen_minute_city$|^green_access$|_load$)/.test(k);
const decimals = (k) => (/(per_ha|per_resident|_ha$|max_cut)/.test(k) ? 1 : 0);

// Which way is better, per indicator: +1 more is better (access, green, broadband, jobs), -1
// more is worse (violations, exposure to floods, noise and bad air, overloaded schools, paved
// ground), 0 neither (residents, dwellings, density: a planner's choice, not a score).
function direction(k) {
  if (/^violations|^flood_|^noise_|^air_|_load$|^impervious_share$/.test(k)) return -1;
  if (/^access_|^fifteen_minute_city$|^green_access$|^green_m2_per_resident$|^public_green_m2$|^green_share$|^broadband_|^wifi_access_share$|^digital_help_access_share$|^jobs$/.test(k)) return 1;
  return 0;
}
// judged is the class and the word of a difference d of indicator k: better, worse or neutral.
function judged(k, d) {
  if (!Number.isFinite(d) || Math.abs(d) < 1e-12 || !direction(k)) return { cls: 'neutral', word: '' };
  return d * direction(k) > 0 ? { cls: 'better', word: t('pl.better') } : { cls: 'worse', word: t('pl.worse') };
}

function indLabel(k) {
  if (has(`ind.${k}`)) return t(`ind.${k}`);
  return k.replace(/_/g, ' ');
}
function fmtInd(k, v) { return isShare(k) ? fmtPct(v) : fmt(v, decimals(k)); }
function fmtDiff(k, d) {
  if (!Number.isFinite(d) || Math.abs(d) < 1e-9) return '0';
  const v = isShare(k) ? Math.abs(d) * 100 : Math.abs(d);
  // Enough decimals that a small change does not read as zero.
  let digits = isShare(k) ? 1 : decimals(k);
  while (digits < 4 && Number(v.toFixed(digits)) === 0) digits++;
  const s = isShare(k) ? t('unit.pp', { v: fmt(v, digits) }) : fmt(v, digits);
  return `${d > 0 ? '+' : '−'}${s}`;
}

async function runScenario() {
  if (!state.current) return;
  const btn = $('#run');
  btn.disabled = true;
  status(t('run.running'));
  try {
    state.run = await api(`/api/scenarios/${state.current.id}/run`, { method: 'POST' });
    state.runGeoms = null;
    status(t('run.done', { ms: fmt(state.run.duration_ms, 0) }));
    renderDashboard();
    $('#dashboard').focus({ preventScroll: false });
  } catch (err) {
    status(t('err.generic', { msg: err.message }), true);
  } finally {
    btn.disabled = false;
  }
}

function scopeIndicators() {
  const r = state.run;
  if (state.scope === 'city') return r.indicators || {};
  const d = (r.districts || []).find((x) => String(x.id ?? x.name) === state.scope);
  return d ? d.indicators : {};
}

// --- Where the numbers come from ---------------------------------------------------------------
// The run's `sources` codes and the words the dashboard shows for them (src.<word>).
const SOURCE_WORDS = { 'census-calibrated': 'census', surveyed: 'surveyed', modelled: 'modelled' };
// The access indicators whose straight-line distance is lengthened by the detour factor; the
// others (green access, Wi-Fi, digital help) compare the straight line as it is.
const usesDetour = (k) => k.startsWith('access_') || k === 'fifteen_minute_city';

// sourceBadge is the source of indicator k in words, described by the legend's entry
// (#src-about-<word>); null when the run does not say.
function sourceBadge(k) {
  const src = state.run?.sources?.[k];
  if (!src) return null;
  const word = SOURCE_WORDS[src];
  const b = el('span', { className: `src-badge src-${word || 'other'}`, textContent: word ? t(`src.${word}`) : src });
  b.dataset.source = src;
  if (word) {
    b.title = t(`src.${word}.about`);
    b.setAttribute('aria-describedby', `src-about-${word}`);
  }
  return b;
}

// distanceNote says how the walking distances of access indicator k were measured; null for
// the other indicators.
function distanceNote(k) {
  const m = state.run?.distance_methods?.[k];
  if (!m) return null;
  const f = fmt(state.run.parameters?.detour_factor ?? 1.25, 2);
  const text = m === 'network' ? t('dist.network') : usesDetour(k) ? t('dist.straight.detour', { f }) : t('dist.straight');
  const s = el('span', { className: 'dist-method', textContent: text });
  s.dataset.method = m;
  s.setAttribute('aria-describedby', 'dist-about');
  return s;
}

// sourceWords is the source badge of indicator k, and for an access indicator its distance.
function sourceWords(k) {
  const dist = distanceNote(k);
  return [sourceBadge(k), dist && ' · ', dist];
}

// sourceLegend explains each source word once, and the distances.
function sourceLegend() {
  const f = fmt(state.run?.parameters?.detour_factor ?? 1.25, 2);
  return el('div', { className: 'src-legend small' },
    el('h3', { textContent: t('src.legend') }),
    el('ul', {}, ...Object.values(SOURCE_WORDS).map((w) => el('li', { id: `src-about-${w}`, textContent: t(`src.${w}.about`) })),
      el('li', { id: 'dist-about', textContent: t('dist.about', { f }) })));
}

function renderDashboard() {
  const body = $('#dash-body');
  const r = state.run;
  if (!r) {
    body.replaceChildren(el('p', { className: 'muted', textContent: t('dash.none') }));
    return;
  }
  const ind = scopeIndicators();
  const frag = document.createDocumentFragment();
  const when = new Intl.DateTimeFormat(lang() === 'ro' ? 'ro-RO' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(r.created_at));
  const info = el('p', { id: 'run-info', className: 'muted small', textContent: `${t('sc.current', { name: state.current?.name || r.scenario_id })} · ${t('pl.run.of', { v: r.scenario_version, when })}` });
  info.dataset.version = String(r.scenario_version);
  info.dataset.run = r.id;
  frag.append(info);
  // A run of an older version than the scenario's is out of date: said so, with a re-run.
  if (state.current && r.scenario_version < state.current.version) {
    const again = el('button', { type: 'button', id: 'rerun', textContent: t('pl.run.again') });
    again.addEventListener('click', runScenario);
    frag.append(el('div', { id: 'run-stale', className: 'notice stale', role: 'status' },
      el('p', { textContent: t('pl.run.stale', { run: r.scenario_version, now: state.current.version }) }), again));
  }

  // Scope: the city or one district.
  const scope = el('select', { id: 'dash-scope' },
    el('option', { value: 'city', textContent: t('dash.city') }),
    ...(r.districts || []).map((d) => el('option', { value: String(d.id ?? d.name), textContent: d.name || d.code || String(d.id) })));
  scope.value = state.scope;
  scope.addEventListener('change', () => { state.scope = scope.value; renderDashboard(); $('#dash-scope').focus(); });
  frag.append(el('div', { className: 'inline-form' }, el('label', { htmlFor: 'dash-scope', textContent: `${t('dash.scope')} ` }), scope));

  // Headline indicators.
  const kpis = el('div', { className: 'kpis' });
  for (const k of KPI_KEYS) {
    const v = ind[k];
    if (!v) continue;
    const card = el('div', { className: 'kpi' });
    card.dataset.indicator = k;
    card.dataset.baseline = String(v.baseline);
    card.dataset.variant = String(v.variant);
    card.dataset.diff = String(v.diff);
    const dir = v.diff > 1e-12 ? 'up' : v.diff < -1e-12 ? 'down' : '';
    const j = judged(k, v.diff);
    const delta = el('div', { className: `delta ${dir} ${j.cls}`, textContent: `${dir === 'up' ? '▲ ' : dir === 'down' ? '▼ ' : ''}${fmtDiff(k, v.diff)}` });
    if (j.word) delta.append(el('span', { className: 'visually-hidden', textContent: ` (${j.word})` }));
    delta.dataset.judged = j.cls;
    card.append(
      el('div', { className: 'label', textContent: indLabel(k) }),
      el('div', { className: 'value', textContent: fmtInd(k, v.variant) }),
      delta,
      el('div', { className: 'label', textContent: `${t('dash.baseline')}: ${fmtInd(k, v.baseline)}` }),
      el('div', { className: 'src' }, ...sourceWords(k)),
    );
    kpis.append(card);
  }
  frag.append(kpis);

  // Access shares as paired bars: baseline (grey) and scenario (blue), with the numbers.
  const grid = el('div', { className: 'dash-grid' });
  const bars = el('ul', { className: 'bars' });
  for (const k of ACCESS_KEYS) {
    const v = ind[k];
    if (!v) continue;
    const bar = (cls, share, label) => el('div', { className: 'bar-row' },
      el('span', { className: 'bar-label', textContent: label }),
      el('span', { className: 'bar-track', ariaHidden: 'true' }, Object.assign(el('span', { className: `bar-fill ${cls}` }), { style: `width:${Math.max(0, Math.min(1, share)) * 100}%` })),
      el('span', { className: 'bar-value', textContent: fmtPct(share) }));
    const li = el('li', {}, el('div', { className: 'bar-title', textContent: indLabel(k) }), bar('', v.baseline, t('dash.baseline')), bar('variant', v.variant, t('dash.variant')));
    li.dataset.indicator = k;
    bars.append(li);
  }
  grid.append(el('section', { className: 'dash-card' }, el('h3', { textContent: t('dash.access') }), bars));

  // Violations, new ones first, each zooming the map to its feature.
  const vsec = el('section', { className: 'dash-card wide' }, el('h3', { textContent: `${t('dash.violations')} (${fmt((r.violations || []).length)})` }));
  const viol = [...(r.violations || [])].sort((a, b) => Number(!!b.new) - Number(!!a.new));
  if (!viol.length) vsec.append(el('p', { textContent: t('dash.violations.none') }));
  else {
    const shown = state.allViolations ? viol.slice(0, 1000) : viol.slice(0, 12);
    const vt = el('table', { className: 'violations' },
      el('caption', { className: 'visually-hidden', textContent: t('dash.violations') }),
      el('thead', {}, el('tr', {}, ...['dash.violations.feature', 'dash.violations.rule', 'dash.violations.value', 'dash.violations.limit', 'dash.violations.new'].map((k) => el('th', { scope: 'col', textContent: t(k) })))),
      el('tbody', {}, ...shown.map((v) => {
        const label = v.feature || `${v.layer}/${v.id}`;
        const words = violationLabel(v);
        const b = el('button', { type: 'button', className: 'link', textContent: words });
        b.setAttribute('aria-label', t('dash.violations.zoom', { feature: words }));
        b.addEventListener('click', () => zoomToFeature(v.layer, v.id));
        const show = (x) => (Array.isArray(x) ? x.map((u) => (has(`val.use.${u}`) ? t(`val.use.${u}`) : u)).join(', ') : typeof x === 'number' ? fmt(x, 2) : (has(`val.use.${x}`) ? t(`val.use.${x}`) : String(x ?? '–')));
        const tr = el('tr', { className: v.new ? 'new' : '' }, el('td', {}, b), el('td', { textContent: has(`field.${v.rule}`) ? t(`field.${v.rule}`) : v.rule }),
          el('td', { textContent: show(v.value) }), el('td', { textContent: show(v.limit) }), el('td', { textContent: v.new ? t('yes') : t('no') }));
        tr.dataset.feature = label;
        return tr;
      })));
    vsec.append(scrollBox('dash-wrap violations-box', vt, t('dash.violations')));
    nameViolations(shown);
    if (viol.length > shown.length || state.allViolations) {
      const more = el('button', { type: 'button', className: 'secondary', textContent: state.allViolations ? t('dash.violations.fewer') : t('dash.violations.all', { n: fmt(viol.length) }) });
      more.addEventListener('click', () => { state.allViolations = !state.allViolations; renderDashboard(); });
      vsec.append(el('div', { className: 'buttons' }, more));
    }
  }
  const over = r.overloaded_facilities || [];
  const osec = el('section', { className: 'dash-card' });
  if (over.length) {
    osec.append(el('h3', { textContent: t('dash.overloaded') }),
      el('ul', {}, ...over.slice(0, 30).map((o) => el('li', { textContent: `${o.name || o.feature} (${t(`val.kind.${o.kind}`)}): ${fmtPct(o.load, 0)}` }))));
  }
  // Exports: fetched with the token, then saved.
  const exp = el('div', { className: 'buttons' });
  for (const [ext, key] of [['csv', 'dash.export.csv'], ['geojson', 'dash.export.geojson']]) {
    const b = el('button', { type: 'button', className: 'secondary', textContent: t(key) });
    b.dataset.export = ext;
    b.addEventListener('click', () => (ext === 'csv' ? saveCSV(r) : download(`/api/scenarios/${r.scenario_id}/runs/${r.id}/export.${ext}`, exportName(r, ext))));
    exp.append(b);
  }
  osec.append(el('h3', { textContent: t('dash.export') }), exp);
  grid.append(osec, vsec);
  frag.append(grid);

  // Every indicator as a table.
  const rows = Object.keys(ind).sort((a, b) => {
    const ia = KPI_KEYS.indexOf(a); const ib = KPI_KEYS.indexOf(b);
    if (ia !== ib) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    return indLabel(a).localeCompare(indLabel(b));
  });
  const table = el('table', { className: 'ind-table' },
    el('caption', { textContent: t('dash.table') }),
    el('thead', {}, el('tr', {}, ...['dash.indicator', 'dash.baseline', 'dash.variant', 'dash.diff', 'src.column'].map((k) => el('th', { scope: 'col', textContent: t(k) })))),
    el('tbody', {}, ...rows.map((k) => {
      const v = ind[k];
      const tr = el('tr', {},
        el('th', { scope: 'row', textContent: indLabel(k) }),
        el('td', { textContent: fmtInd(k, v.baseline) }),
        el('td', { textContent: fmtInd(k, v.variant) }),
        el('td', { className: `diff ${judged(k, v.diff).cls}`, textContent: fmtDiff(k, v.diff) }),
        el('td', { className: 'src' }, ...sourceWords(k)));
      tr.dataset.indicator = k;
      return tr;
    })));
  frag.append(el('details', { className: 'all-indicators' }, el('summary', { textContent: t('dash.more') }), scrollBox('dash-wrap', table, t('dash.table'))), sourceLegend());
  body.replaceChildren(frag);
}

// scrollBox wraps a wide table in a box that scrolls sideways and can be scrolled from the
// keyboard (focusable, named), as the dashboard beside the map is narrow.
function scrollBox(className, table, label) {
  const box = el('div', { className, tabIndex: 0 }, table);
  box.setAttribute('role', 'region');
  box.setAttribute('aria-label', label);
  return box;
}

// --- Data quality: GET /api/quality, public --------------------------------------------------------
async function loadQuality() {
  try {
    state.quality = await api('/api/quality');
  } catch (err) {
    state.quality = { error: err.message };
  }
  renderQuality();
}

function renderQuality() {
  const q = state.quality;
  const body = $('#quality-body');
  if (!q) return;
  if (q.error) {
    body.replaceChildren(el('p', { className: 'notice error', textContent: t('err.generic', { msg: q.error }) }));
    return;
  }
  const frag = document.createDocumentFragment();

  // The census the residents are scaled to, or none.
  const c = q.census;
  const census = el('p', { id: 'quality-census' });
  if (!c || !c.loaded) {
    census.textContent = t('quality.census.none');
    census.dataset.census = 'none';
  } else {
    const years = (c.years || []).map(String).join(', ');
    const sources = (c.sources || []).join(', ') || t('quality.census.nosource');
    census.textContent = t(c.complete ? 'quality.census' : 'quality.census.partial', { years, sources });
    census.dataset.census = c.complete ? 'complete' : 'partial';
    census.dataset.years = years;
    census.dataset.sources = (c.sources || []).join(', ');
    const factors = (c.districts || []).filter((d) => d.census !== null && d.census !== undefined).map((d) => d.factor);
    if (factors.length) {
      const lo = Math.min(...factors); const hi = Math.max(...factors);
      census.append(' ', fmt(lo, 3) === fmt(hi, 3)
        ? t('quality.census.factor', { f: fmt(lo, 3) })
        : t('quality.census.factors', { min: fmt(lo, 3), max: fmt(hi, 3) }));
    }
  }
  frag.append(census);

  // Per layer: how many features, the share surveyed and the share derived.
  const names = Object.keys(q.layers || {}).sort((a, b) => t(`layer.${a}`).localeCompare(t(`layer.${b}`)));
  const table = el('table', { className: 'quality-table quality-layers' },
    el('caption', { textContent: t('quality.layers') }),
    el('thead', {}, el('tr', {}, ...['quality.layer', 'quality.features', 'quality.surveyed', 'quality.derived'].map((k) => el('th', { scope: 'col', textContent: t(k) })))),
    el('tbody', {}, ...names.map((n) => {
      const l = q.layers[n];
      const share = (x) => (l.features ? fmtPct(x) : '–');
      const tr = el('tr', {},
        el('th', { scope: 'row', textContent: has(`layer.${n}`) ? t(`layer.${n}`) : n }),
        el('td', { textContent: fmt(l.features) }),
        el('td', { textContent: share(l.surveyed_share) }),
        el('td', { textContent: share(l.derived_share) }));
      tr.dataset.layer = n;
      tr.dataset.features = String(l.features);
      tr.dataset.surveyedShare = String(l.surveyed_share);
      tr.dataset.derivedShare = String(l.derived_share);
      return tr;
    })));
  frag.append(scrollBox('dash-wrap', table, t('quality.layers')));

  // The key attributes: how many features have each surveyed, derived or missing.
  const attrs = names.flatMap((n) => Object.keys(q.layers[n].attributes || {}).sort().map((a) => [n, a, q.layers[n].attributes[a]]));
  if (attrs.length) {
    const at = el('table', { className: 'quality-table quality-attributes' },
      el('caption', { textContent: t('quality.attributes') }),
      el('thead', {}, el('tr', {}, ...['quality.attribute', 'quality.surveyed', 'quality.derived', 'quality.missing'].map((k) => el('th', { scope: 'col', textContent: t(k) })))),
      el('tbody', {}, ...attrs.map(([n, a, c]) => {
        const tr = el('tr', {},
          el('th', { scope: 'row', textContent: `${has(`layer.${n}`) ? t(`layer.${n}`) : n}: ${has(`field.${a}`) ? t(`field.${a}`) : a}` }),
          el('td', { textContent: fmtPct(c.surveyed_share) }),
          el('td', { textContent: fmtPct(c.derived_share) }),
          el('td', { textContent: fmtPct(c.missing_share) }));
        tr.dataset.layer = n;
        tr.dataset.attribute = a;
        return tr;
      })));
    frag.append(scrollBox('dash-wrap', at, t('quality.attributes')));
  }
  frag.append(el('p', { className: 'muted small', textContent: t('quality.derived.about') }));

  // The indicators resting on modelled inputs (only with a scenario engine).
  if (Array.isArray(q.modelled_indicators)) {
    frag.append(el('h4', { textContent: t('quality.modelled') }));
    if (!q.modelled_indicators.length) frag.append(el('p', { textContent: t('quality.modelled.none') }));
    else {
      frag.append(el('ul', { id: 'quality-modelled', className: 'modelled-list' }, ...q.modelled_indicators.map((k) => {
        const li = el('li', { textContent: indLabel(k) });
        li.dataset.indicator = k;
        return li;
      })));
    }
  }
  body.replaceChildren(frag);
}

async function download(path, filename) {
  try {
    const res = await api(path, { raw: true });
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) { status(t('err.generic', { msg: err.message }), true); }
}

function bboxOf(geom) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') { b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); }
    else c.forEach(walk);
  };
  walk(geom.coordinates);
  return b;
}

async function zoomToFeature(layer, id) {
  const r = state.run;
  let feat = (r.changed_features || []).find((c) => c.layer === layer && String(c.id) === String(id));
  if (!feat || !feat.geometry) {
    if (!state.runGeoms) {
      try { state.runGeoms = list(await api(`/api/scenarios/${r.scenario_id}/runs/${r.id}/export.geojson`), 'features'); } catch { state.runGeoms = []; }
    }
    feat = state.runGeoms.find((f) => f.properties?.layer === layer && String(f.id) === String(id));
  }
  if (!feat || !feat.geometry) return;
  highlight(feat.geometry, `${layer}/${id}`, violationLabel({ layer, id }));
}

// violationLabel names a violating feature: from the run's changed features, or as looked up.
function violationLabel(v) {
  const ch = (state.run?.changed_features || []).find((c) => c.layer === v.layer && String(c.id) === String(v.id));
  const f = ch || (Number(v.id) >= ADDED_ID_BASE ? null : known.get(`${v.layer}/${v.id}`));
  return featureLabel(v.layer, f?.properties || {});
}

// nameViolations looks up the listed violations' features the page does not know yet, then
// writes their names in.
async function nameViolations(shown) {
  const missing = shown.filter((v) => !(state.run?.changed_features || []).some((c) => c.layer === v.layer && String(c.id) === String(v.id)) && !known.has(`${v.layer}/${v.id}`));
  if (!missing.length) return;
  await Promise.all(missing.map((v) => lookUp(v.layer, v.id)));
  for (const tr of document.querySelectorAll('table.violations tbody tr')) {
    const [layer, id] = (tr.dataset.feature || '').split('/');
    const b = tr.querySelector('button');
    if (!b || !known.has(`${layer}/${id}`)) continue;
    const words = violationLabel({ layer, id });
    b.textContent = words;
    b.setAttribute('aria-label', t('dash.violations.zoom', { feature: words }));
  }
}

// exportName is a file name of the scenario's name and the run's date: "north-school-2026-12-02.csv".
function exportName(r, ext) {
  const name = (state.current?.id === r.scenario_id ? state.current.name : '') || r.scenario_id;
  const slug = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase().slice(0, 60) || 'scenario';
  return `${slug}-${String(r.created_at || '').slice(0, 10)}.${ext}`;
}

// csvNumber writes a number for a spreadsheet: a share as a percentage, at most 4 decimals.
function csvNumber(k, v) {
  if (!Number.isFinite(v)) return '';
  return String(Number((isShare(k) ? v * 100 : v).toFixed(4)));
}

// saveCSV saves the run as CSV in the page's language: labelled columns, the indicators of the
// city and of each district (shares as percentages, their differences in percentage points),
// then the violations with the features' names.
function saveCSV(r) {
  const q = (x) => (/[",\n\r]/.test(String(x)) ? `"${String(x).replace(/"/g, '""')}"` : String(x));
  const rows = [[t('pl.csv.area'), t('dash.indicator'), t('pl.csv.unit'), t('dash.baseline'), t('dash.variant'), t('dash.diff')]];
  const unit = (k) => (isShare(k) ? '%' : '');
  const order = (ind) => Object.keys(ind).sort((a, b) => indLabel(a).localeCompare(indLabel(b)));
  const area = (name, ind) => {
    for (const k of order(ind)) rows.push([name, indLabel(k), unit(k), csvNumber(k, ind[k].baseline), csvNumber(k, ind[k].variant), csvNumber(k, ind[k].diff)]);
  };
  area(t('dash.city'), r.indicators || {});
  for (const d of r.districts || []) area(d.name || d.code || String(d.id), d.indicators || {});
  rows.push([]);
  rows.push([t('dash.violations.feature'), t('pl.csv.feature_id'), t('dash.violations.rule'), t('dash.violations.value'), t('dash.violations.limit'), t('dash.violations.new')]);
  const say = (x) => (Array.isArray(x) ? x.map((u) => valueWords('use', u)).join(', ') : typeof x === 'number' ? String(x) : valueWords('use', x));
  for (const v of r.violations || []) {
    rows.push([violationLabel(v), `${v.layer}/${v.id}`, has(`field.${v.rule}`) ? t(`field.${v.rule}`) : v.rule, say(v.value), say(v.limit), t(v.new ? 'yes' : 'no')]);
  }
  const text = `\ufeff${rows.map((row) => row.map(q).join(',')).join('\r\n')}\r\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = el('a', { href: url, download: exportName(r, 'csv') });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// --- Comparison --------------------------------------------------------------------------------------
async function compare() {
  const ids = [...state.compare];
  const out = $('#compare-body');
  try {
    const cmp = await api(`/api/scenarios/compare?ids=${ids.map(encodeURIComponent).join(',')}`);
    state.comparison = cmp;
    renderComparison();
    out.querySelector('h3')?.focus();
  } catch (err) { status(t('err.generic', { msg: err.message }), true); }
}

function renderComparison() {
  const cmp = state.comparison;
  const out = $('#compare-body');
  if (!cmp) { out.replaceChildren(); return; }
  const scs = cmp.scenarios || [];
  const keys = [...KPI_KEYS, ...ACCESS_KEYS.filter((k) => !KPI_KEYS.includes(k))].filter((k) => cmp.indicators?.[k]);
  const head = el('h3', { textContent: t('cmp.title'), tabIndex: -1 });
  const table = el('table', { className: 'compare-table' },
    el('caption', { className: 'visually-hidden', textContent: t('cmp.title') }),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', textContent: t('dash.indicator') }), el('th', { scope: 'col', textContent: t('dash.baseline') }),
      ...scs.map((s) => el('th', { scope: 'col', textContent: s.name || s.id })))),
    el('tbody', {}, ...keys.map((k) => {
      const row = cmp.indicators[k];
      return el('tr', {}, el('th', { scope: 'row', textContent: indLabel(k) }), el('td', { textContent: fmtInd(k, row.baseline) }),
        ...scs.map((s) => el('td', { className: `diff ${judged(k, row[s.id] - row.baseline).cls}`, textContent: `${fmtInd(k, row[s.id])} (${fmtDiff(k, row[s.id] - row.baseline)})` })));
    })));
  out.replaceChildren(head, scrollBox('dash-wrap', table, t('cmp.title')));
}

// --- The map: base layers, the open scenario's variant, drawing -------------------------------------------
const VARIANT_LAYERS = 'buildings,facilities,green_spaces,zoning';
const CHANGE_COLOR = ['match', ['get', 'change'], 'added', '#15803d', 'modified', '#c2410c', 'demolished', '#b91c1c', '#000000'];
const buildingUseColor = ['match', ['to-string', ['get', 'use']], ...Object.entries(USE_COLORS).flat(), '#9a9a9a'];

function addPlannerLayers() {
  // The base map as the planner sees it: buildings, facilities, green spaces and zone outlines.
  for (const n of ['buildings', 'facilities', 'green_spaces', 'zoning']) setPanelLayer(map, n, true, false);
  map.setPaintProperty('ct-zoning', 'fill-opacity', 0.08);
  const origin = location.origin;
  map.addSource('ct-variant', { type: 'vector', tiles: [`${origin}/api/scenarios/none/tiles/${VARIANT_LAYERS}/{z}/{x}/{y}.mvt`], minzoom: 10, maxzoom: 18 });
  const V = (spec) => map.addLayer({ ...spec, source: 'ct-variant', layout: { ...(spec.layout || {}), visibility: 'none' }, metadata: { variant: true } });
  V({ id: 'cv-zoning', type: 'fill', 'source-layer': 'zoning', paint: { 'fill-color': ['case', ['has', 'change'], CHANGE_COLOR, '#f7c27a'], 'fill-opacity': ['case', ['has', 'change'], 0.25, 0.08] } });
  V({ id: 'cv-zoning-line', type: 'line', 'source-layer': 'zoning', paint: { 'line-color': ['case', ['has', 'change'], CHANGE_COLOR, '#6b3d12'], 'line-width': ['case', ['has', 'change'], 3, 1], 'line-dasharray': [3, 2] } });
  V({ id: 'cv-green', type: 'fill', 'source-layer': 'green_spaces', paint: { 'fill-color': ['case', ['==', ['get', 'change'], 'added'], '#15803d', ['==', ['get', 'change'], 'demolished'], '#fecaca', '#3f9b4f'], 'fill-opacity': 0.7 } });
  V({ id: 'cv-buildings', type: 'fill', 'source-layer': 'buildings',
    paint: {
      'fill-color': ['case', ['==', ['get', 'change'], 'demolished'], '#fecaca', ['has', 'change'], CHANGE_COLOR, buildingUseColor],
      'fill-opacity': ['case', ['has', 'change'], 0.9, 0.55], 'fill-outline-color': '#4a3b2a',
    } });
  V({ id: 'cv-changed-line', type: 'line', 'source-layer': 'buildings', filter: ['any', ['==', ['get', 'change'], 'added'], ['==', ['get', 'change'], 'modified']], paint: { 'line-color': '#111827', 'line-width': 2 } });
  V({ id: 'cv-demolished-line', type: 'line', 'source-layer': 'buildings', filter: ['==', ['get', 'change'], 'demolished'], paint: { 'line-color': '#b91c1c', 'line-width': 2.5, 'line-dasharray': [2, 1.5] } });
  V({ id: 'cv-green-line', type: 'line', 'source-layer': 'green_spaces', filter: ['has', 'change'], paint: { 'line-color': CHANGE_COLOR, 'line-width': 2.5 } });
  V({ id: 'cv-facilities', type: 'circle', 'source-layer': 'facilities',
    paint: {
      'circle-radius': ['case', ['has', 'change'], 9, 6],
      'circle-color': ['case', ['has', 'change'], CHANGE_COLOR, '#1f5fbf'],
      'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2,
      'circle-opacity': ['case', ['==', ['get', 'change'], 'demolished'], 0.5, 1],
    } });

  map.addSource('pl-highlight', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'pl-highlight', type: 'line', source: 'pl-highlight', paint: { 'line-color': '#facc15', 'line-width': 5 } });
  map.addLayer({ id: 'pl-highlight-pt', type: 'circle', source: 'pl-highlight', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 12, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#facc15', 'circle-stroke-width': 4 } });
  map.addSource('pl-walk', { type: 'geojson', data: walkData(state.walk.result?.scen, state.walk.origin) });
  map.addLayer({ id: 'pl-walk-hull', type: 'fill', source: 'pl-walk', filter: ['==', ['get', 'kind'], 'hull'], paint: { 'fill-color': '#7c3aed', 'fill-opacity': 0.1 } });
  map.addLayer({ id: 'pl-walk-reach', type: 'line', source: 'pl-walk', filter: ['==', ['get', 'kind'], 'reach'], paint: { 'line-color': '#6d28d9', 'line-width': 4, 'line-opacity': 0.85 } });
  map.addLayer({ id: 'pl-walk-origin', type: 'circle', source: 'pl-walk', filter: ['==', ['get', 'kind'], 'origin'], paint: { 'circle-radius': 7, 'circle-color': '#6d28d9', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 } });
  map.addSource('pl-draw', { type: 'geojson', data: drawData() });
  map.addLayer({ id: 'pl-draw-fill', type: 'fill', source: 'pl-draw', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#0a58a8', 'fill-opacity': 0.25 } });
  map.addLayer({ id: 'pl-draw-line', type: 'line', source: 'pl-draw', filter: ['any', ['==', ['geometry-type'], 'Polygon'], ['==', ['geometry-type'], 'LineString']], paint: { 'line-color': '#0a58a8', 'line-width': 2.5 } });
  map.addLayer({ id: 'pl-draw-pt', type: 'circle', source: 'pl-draw', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': ['case', ['has', 'point'], 8, 5], 'circle-color': '#ffffff', 'circle-stroke-color': '#0a58a8', 'circle-stroke-width': 3 } });
}

// showVariant swaps the base layers for the open scenario's variant tiles (with the version
// in the URL, so a new change reloads them).
function showVariant() {
  if (!map || !map.getSource('ct-variant')) return;
  const sc = state.current;
  const on = !!sc;
  if (on) {
    map.getSource('ct-variant').setTiles([`${location.origin}/api/scenarios/${encodeURIComponent(sc.id)}/tiles/${VARIANT_LAYERS}/{z}/{x}/{y}.mvt?v=${sc.version}`]);
  }
  for (const l of map.getStyle().layers) {
    if (l.metadata?.variant) map.setLayoutProperty(l.id, 'visibility', on ? 'visible' : 'none');
  }
  for (const n of ['buildings', 'facilities', 'green_spaces', 'zoning']) setPanelLayer(map, n, !on, false);
}

const TARGET_LAYERS = {
  buildings: { base: ['ct-buildings'], variant: ['cv-buildings'] },
  facilities: { base: ['ct-facilities'], variant: ['cv-facilities'] },
  green_spaces: { base: ['ct-green'], variant: ['cv-green'] },
  zoning: { base: ['ct-zoning'], variant: ['cv-zoning'] },
  streets: { base: ['streets-line', 'paths-line', 'streets-casing'], variant: ['streets-line', 'paths-line', 'streets-casing'] },
};

function pickTarget(point) {
  const spec = KINDS[$('#change-kind').value];
  const layerIds = TARGET_LAYERS[spec.target][state.current ? 'variant' : 'base'].filter((id) => map.getLayer(id));
  // A street is a thin line: look a few pixels around the point.
  const around = spec.target === 'streets' ? map.queryRenderedFeatures([[point.x - 6, point.y - 6], [point.x + 6, point.y + 6]], { layers: layerIds }) : [];
  const f = [...around, ...featuresAt(map, point, layerIds)].find((x) => x.properties.change !== 'demolished' && x.id !== undefined);
  if (!f || f.id === undefined) {
    status(t('tool.target.none', { layer: t(`layer.${spec.target}`) }));
    return;
  }
  $('#target').value = String(f.id);
  $('#target').removeAttribute('aria-invalid');
  $('#target-error').textContent = '';
  status(t('tool.target.picked', { layer: t(`layer.${spec.target}`), id: f.id }));
  map.getSource('pl-highlight').setData({ type: 'Feature', properties: {}, geometry: f.geometry });
}

function setPoint(lng, lat) {
  state.point = [lng, lat];
  $('#pt-lon').value = lng.toFixed(6);
  $('#pt-lat').value = lat.toFixed(6);
  renderDraw();
}

function onMapClick(e) {
  if (state.walk.pick && state.current) { walkFrom([e.lngLat.lng, e.lngLat.lat]); return; }
  const spec = state.current && !state.readOnly ? KINDS[$('#change-kind').value] : null;
  if (isDrawn(spec) && state.draw.active) { addVertex(e.lngLat); return; }
  if (spec && spec.geom === 'point') { setPoint(e.lngLat.lng, e.lngLat.lat); return; }
  if (spec && spec.target) { pickTarget(e.point); return; }
  const f = featuresAt(map, e.point)[0] || featuresAt(map, e.point, ['cv-buildings', 'cv-facilities', 'cv-green', 'cv-zoning'].filter((id) => map.getLayoutProperty(id, 'visibility') === 'visible'))[0];
  if (!f) return;
  new maplibregl.Popup({ maxWidth: '300px', focusAfterOpen: false, className: 'ct-popup' })
    .setLngLat(e.lngLat).setDOMContent(featureInfo(f.sourceLayer, f.id, f.properties)).addTo(map);
}

// --- The scenario's walk: how far a walker gets in so many minutes ------------------------------------------
// The scenario's isochrone (GET /api/scenarios/{id}/isochrone, its footpaths, closed streets
// and facilities) drawn on the map, the nearest school, clinic and pharmacy with their walks,
// each beside the city's today (GET /api/isochrone, up to the longest walk it answers).
const WALK_KINDS = ['school', 'clinic', 'pharmacy'];
const WALK_TODAY_MINUTES = 30;

function walkMinutes() { return Number(document.querySelector('input[name="pw-min"]:checked')?.value || 10); }

function setWalkPick(on) {
  state.walk.pick = on;
  $('#pw-pick').setAttribute('aria-pressed', String(on));
  if (on) status(t('pw.pick.on'));
}

function nearestByKind(fc) {
  const out = {};
  for (const f of fc?.features || []) {
    const k = f.properties?.kind;
    if (WALK_KINDS.includes(k) && typeof f.properties.walk_m === 'number' && !(k in out)) out[k] = f.properties.walk_m;
  }
  return out;
}

function walkData(fc, origin) {
  const feats = (fc?.features || []).filter((f) => ['reach', 'hull'].includes(f.properties?.kind));
  if (origin) feats.push({ type: 'Feature', properties: { kind: 'origin' }, geometry: { type: 'Point', coordinates: origin } });
  return { type: 'FeatureCollection', features: feats };
}

async function walkFrom(origin) {
  const sc = state.current;
  if (!sc) return;
  setWalkPick(false);
  state.walk.origin = origin;
  const minutes = walkMinutes();
  const key = `${sc.id}/${sc.version}/${minutes}/${origin.map((x) => x.toFixed(6)).join(',')}`;
  state.walk.key = key;
  const out = $('#pw-result');
  out.dataset.state = 'loading';
  out.replaceChildren(el('p', { className: 'muted small', textContent: t('walk.loading') }));
  const q = (m) => `lon=${origin[0].toFixed(6)}&lat=${origin[1].toFixed(6)}&minutes=${m}`;
  try {
    const [scen, today] = await Promise.all([
      api(`/api/scenarios/${encodeURIComponent(sc.id)}/isochrone?${q(minutes)}`),
      api(`/api/isochrone?${q(WALK_TODAY_MINUTES)}`),
    ]);
    if (state.walk.key !== key) return; // a newer walk was asked for meanwhile
    state.walk.result = { scen, today, minutes, origin };
    if (map?.getSource('pl-walk')) map.getSource('pl-walk').setData(walkData(scen, origin));
    renderWalk();
    out.dataset.state = 'done';
    $('#map').dataset.walk = key;
  } catch (err) {
    if (state.walk.key !== key) return;
    state.walk.result = null;
    out.dataset.state = 'error';
    out.replaceChildren(el('p', { className: 'field-error', textContent: err instanceof ApiError && err.field === 'lon' ? t('walk.outside') : t('walk.error') }));
  }
}

function renderWalk() {
  const r = state.walk.result;
  const out = $('#pw-result');
  if (!r) return;
  const got = nearestByKind(r.scen);
  const was = nearestByKind(r.today);
  const ul = el('ul', { className: 'pw-list' });
  for (const k of WALK_KINDS) {
    const kind = t(`val.kind.${k}`);
    const today = k in was ? t('pw.today', { dist: fmtDistance(was[k]) }) : t('pw.today.none', { min: WALK_TODAY_MINUTES });
    const li = el('li', { textContent: k in got ? t('pw.item', { kind, dist: fmtDistance(got[k]), today }) : t('pw.item.none', { kind, min: r.minutes, today }) });
    li.dataset.kind = k;
    if (k in got) li.dataset.walk = String(got[k]);
    if (k in was) li.dataset.today = String(was[k]);
    ul.append(li);
  }
  out.replaceChildren(el('p', { className: 'small', textContent: t('pw.head', { min: r.minutes }) }), ul);
}

function clearWalk() {
  state.walk = { pick: false, origin: null, key: '', result: null };
  $('#pw-pick').setAttribute('aria-pressed', 'false');
  $('#pw-result').replaceChildren();
  delete $('#pw-result').dataset.state;
  delete $('#map').dataset.walk;
  if (map?.getSource('pl-walk')) map.getSource('pl-walk').setData(walkData(null, null));
}

// --- The permalink: the URL's hash holds the open scenario and the map's view ---------------------------------
// #scenario=<id>&map=<zoom>/<lat>/<lon>; opening it reopens the scenario (a planner's with a
// token; without one, a published scenario to read).
let linkedScenario = ''; // a linked scenario not opened yet (the public's link to a team scenario, before signing in)
function writeHash() {
  const parts = [];
  const sid = state.current?.id || linkedScenario;
  if (sid) parts.push(`scenario=${encodeURIComponent(sid)}`);
  if (map) {
    const c = map.getCenter();
    parts.push(`map=${map.getZoom().toFixed(2)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
  }
  const hash = parts.length ? `#${parts.join('&')}` : '';
  if (hash !== location.hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  $('#permalink').href = location.href;
}

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const [z, lat, lon] = (p.get('map') || '').split('/').map(Number);
  const view = [z, lat, lon].every(Number.isFinite) && p.get('map') ? { zoom: z, center: [lon, lat] } : null;
  return { scenario: p.get('scenario') || '', view };
}

// openLinked opens the scenario a link names, saying so when it cannot be read.
async function openLinked(id, fit) {
  linkedScenario = id;
  try {
    await openScenario(id, { fit });
    linkedScenario = '';
  } catch (err) {
    status(err instanceof ApiError && err.status === 404 ? t(getToken() ? 'pw.link.missing' : 'pw.link.signin') : t('err.generic', { msg: err.message }), true);
  }
}

// --- Sign in and start -------------------------------------------------------------------------------
async function tryToken(tok) {
  setToken(tok);
  try {
    await loadScenarios();
    sessionStorage.setItem(TOKEN_KEY, tok);
    $('#login').hidden = true;
    $('#workspace').hidden = false;
    return true;
  } catch (err) {
    setToken('');
    sessionStorage.removeItem(TOKEN_KEY);
    $('#login').hidden = false;
    $('#workspace').hidden = true;
    const msg = err instanceof ApiError ? err.message : t('err.network');
    $('#token-error').textContent = t('planner.login.bad', { msg });
    $('#token').setAttribute('aria-invalid', 'true');
    return false;
  }
}

$('#login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const tok = $('#token').value.trim();
  if (!tok) {
    $('#token-error').textContent = t('err.required');
    $('#token').setAttribute('aria-invalid', 'true');
    $('#token').focus();
    return;
  }
  $('#token').removeAttribute('aria-invalid');
  $('#token-error').textContent = '';
  if (await tryToken(tok)) {
    $('#token').value = '';
    if (state.current) await openScenario(state.current.id, { keepRun: true, fit: false }).catch(() => {});
    else if (linkedScenario) await openLinked(linkedScenario, !readHash().view);
    $('#sc-name').focus();
  } else $('#token').focus();
});
$('#logout').addEventListener('click', () => {
  setToken('');
  sessionStorage.removeItem(TOKEN_KEY);
  closeScenario();
  state.scenarios = [];
  $('#workspace').hidden = true;
  $('#login').hidden = false;
  $('#token').focus();
});
$('#new-scenario').addEventListener('submit', createScenario);
$('#change-form').addEventListener('submit', submitChange);
$('#change-kind').addEventListener('change', buildChangeForm);
$('#run').addEventListener('click', runScenario);
$('#compare').addEventListener('click', compare);
$('#draw-start').addEventListener('click', () => { if (state.draw.active) finishDrawing(); else startDrawing(); });
$('#draw-vertex').addEventListener('click', () => { if (map) addVertex(map.getCenter()); });
$('#draw-undo').addEventListener('click', () => { state.draw.coords.pop(); syncCoordsText(); renderDraw(); updateDrawStatus(); });
$('#draw-finish').addEventListener('click', finishDrawing);
$('#draw-clear').addEventListener('click', () => { state.draw.coords = []; syncCoordsText(); renderDraw(); updateDrawStatus(); });
$('#coords').addEventListener('change', () => {
  const { pts } = parseCoords($('#coords').value);
  if (pts) { state.draw.coords = pts; renderDraw(); updateDrawStatus(); }
});
$('#point-centre').addEventListener('click', () => { if (map) { const c = map.getCenter(); setPoint(c.lng, c.lat); } });
$('#target-centre').addEventListener('click', () => { if (map) pickTarget(map.project(map.getCenter())); });
$('#pw-centre').addEventListener('click', () => { if (map) { const c = map.getCenter(); walkFrom([c.lng, c.lat]); } });
$('#pw-pick').addEventListener('click', () => setWalkPick(!state.walk.pick));
$('#pw-clear').addEventListener('click', () => { clearWalk(); status(''); });
for (const r of document.querySelectorAll('input[name="pw-min"]')) r.addEventListener('change', () => { if (state.walk.origin) walkFrom(state.walk.origin); });
window.addEventListener('hashchange', () => {
  const { scenario } = readHash();
  if (scenario && scenario !== state.current?.id) openLinked(scenario, true);
});

kindSelect();
buildChangeForm();
onLangChange(() => {
  kindSelect();
  buildChangeForm();
  renderScenarios();
  renderCurrent();
  renderDashboard();
  renderComparison();
  renderQuality();
  if (state.lastWarnings) showWarnings(state.lastWarnings.warnings, state.lastWarnings.kind);
  renderWalk();
});

loadQuality();
const linked = readHash();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) await tryToken(saved);
else $('#login').hidden = false;
if (linked.scenario) await openLinked(linked.scenario, !linked.view);

map = await createCityMap($('#map'), {
  transformRequest: (url) => (url.startsWith(`${location.origin}/api/`) && getToken()
    ? { url, headers: { Authorization: `Bearer ${getToken()}` } }
    : { url }),
  view: linked.view || undefined,
});
addPlannerLayers();
showVariant();
if (state.current && !linked.view) fitToChanges();
writeHash();
map.on('moveend', writeHash);
map.on('click', onMapClick);
map.on('dblclick', (e) => {
  if (state.draw.active) { e.preventDefault(); finishDrawing(); }
});
map.getCanvas().addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  if (state.walk.pick && state.current) { e.preventDefault(); const w = map.getCenter(); walkFrom([w.lng, w.lat]); return; }
  const spec = state.current && !state.readOnly ? KINDS[$('#change-kind').value] : null;
  if (!spec) return;
  e.preventDefault();
  const c = map.getCenter();
  if (isDrawn(spec) && state.draw.active) addVertex(c);
  else if (spec.geom === 'point') setPoint(c.lng, c.lat);
  else if (spec.target) pickTarget(map.project(c));
});
