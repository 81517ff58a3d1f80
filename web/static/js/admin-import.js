// The admin upload page at /admin/import: a file (and optionally a mapping) is sent to
// POST /api/admin/import as a dry run, its report shown as tables, then sent again for real
// when the admin confirms. The token stays in this tab's memory.
import { t, initLangSwitch, onLangChange, fmt } from './i18n.js';

const $ = (sel) => document.querySelector(sel);
let last = null; // the last report shown, redrawn when the language changes

function formData(dryRun) {
  const fd = new FormData();
  const f = $('#imp-file').files[0];
  if (f) fd.append('file', f, f.name);
  const m = $('#imp-mapping').files[0];
  if (m) fd.append('mapping', m, m.name);
  for (const name of ['layer', 'srid', 'key', 'max_errors']) {
    const el = document.querySelector(`[name="${name}"]`);
    if (el.value.trim() !== '') fd.append(name, el.value.trim());
  }
  fd.append('mode', document.querySelector('[name="mode"]:checked').value);
  fd.append('dry_run', dryRun ? 'true' : 'false');
  return fd;
}

function clearErrors() {
  for (const el of document.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of document.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

function fieldError(field, msg) {
  const p = document.getElementById(`imp-${field}-error`);
  if (!p) return false;
  p.textContent = msg;
  const input = document.getElementById(`imp-${field}`) || document.querySelector(`[name="${field}"]`);
  if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
  return true;
}

async function send(dryRun) {
  clearErrors();
  const token = $('#imp-token').value.trim();
  if (!token) { fieldError('token', t('err.required')); return; }
  if (!$('#imp-file').files[0]) { fieldError('file', t('err.required')); return; }
  $('#status').textContent = t(dryRun ? 'imp.checking' : 'imp.importing');
  const res = await fetch('/api/admin/import', {
    method: 'POST', body: formData(dryRun), headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
  });
  let body = null;
  try { body = await res.json(); } catch { body = { error: { message: `HTTP ${res.status}` } }; }
  if (!res.ok) {
    const e = body.error || {};
    if (res.status === 401 || res.status === 403) fieldError('token', e.message);
    else if (e.field) fieldError(e.field, e.message);
    $('#status').textContent = t('imp.failed', { msg: e.message || `HTTP ${res.status}` });
    if (body.report) show(body.report, false);
    return;
  }
  show(body, dryRun);
  $('#status').textContent = dryRun ? t('imp.checked') : t('imp.done', { n: fmt(Object.values(body.written || {}).reduce((a, b) => a + b, 0)) });
}

function cell(tr, text) {
  const td = document.createElement('td');
  td.textContent = text;
  tr.append(td);
}

function show(r, canConfirm) {
  last = { r, canConfirm };
  $('#imp-report').hidden = false;
  $('#imp-summary').textContent = t('imp.summary', {
    read: fmt(r.read), accepted: fmt(r.accepted), rejected: fmt(r.rejected), mode: t(`imp.mode.${r.mode}`),
  });
  const body = $('#imp-sources tbody');
  body.replaceChildren();
  for (const s of r.sources) {
    const tr = document.createElement('tr');
    cell(tr, s.name);
    cell(tr, `${s.format}, ${s.encoding}`);
    cell(tr, s.crs || '–');
    cell(tr, s.layer || s.skipped || '–');
    cell(tr, fmt(s.read));
    cell(tr, fmt(s.accepted));
    cell(tr, fmt(s.rejected));
    cell(tr, s.fields.map((f) => `${f.target} ← ${f.source || '–'}${f.restricted ? ` (${t('imp.restricted')})` : ''}`).join(', '));
    body.append(tr);
  }
  const rej = $('#imp-rejects tbody');
  rej.replaceChildren();
  for (const x of r.rejects) {
    const tr = document.createElement('tr');
    cell(tr, String(x.index));
    cell(tr, x.id ? String(x.id) : '–');
    cell(tr, x.kind);
    cell(tr, x.reason);
    rej.append(tr);
  }
  $('#imp-rejects').hidden = r.rejects.length === 0;
  $('#imp-confirm').hidden = !canConfirm;
  $('#imp-report-title').textContent = t(r.dry_run ? 'imp.report' : 'imp.result');
}

function fillLayers(catalog) {
  const sel = $('#imp-layer');
  for (const l of catalog.layers || []) {
    if (l.extra) continue;
    const o = document.createElement('option');
    o.value = l.name;
    o.textContent = l.name;
    sel.append(o);
  }
}

initLangSwitch();
onLangChange(() => { if (last) show(last.r, last.canConfirm); });
fetch('/catalog').then((r) => r.json()).then(fillLayers).catch(() => {});
$('#import-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  send(true).catch((e) => { $('#status').textContent = t('imp.failed', { msg: e.message }); });
});
$('#imp-confirm').addEventListener('click', () => {
  send(false).catch((e) => { $('#status').textContent = t('imp.failed', { msg: e.message }); });
});
