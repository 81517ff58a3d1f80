// The embedding page at /docs: snippets with this server's address, copy buttons, and the
// table of layers and their public fields.
import { t, initLangSwitch, onLangChange } from './i18n.js';
import { FIELDS } from './thematic.js';

initLangSwitch();

const PLACEHOLDER = 'https://citytwin.example';
for (const code of document.querySelectorAll('pre code, code[data-origin]')) {
  code.textContent = code.textContent.replaceAll(PLACEHOLDER, location.origin);
}

for (const b of document.querySelectorAll('[data-copy]')) {
  b.addEventListener('click', async () => {
    const text = document.getElementById(b.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const sel = window.getSelection();
      const range = document.createRange();
      range.selectNodeContents(document.getElementById(b.dataset.copy));
      sel.removeAllRanges();
      sel.addRange(range);
    }
    document.getElementById('copy-status').textContent = t('docs.copied');
  });
}

function layerTable() {
  const table = document.createElement('table');
  const cap = document.createElement('caption');
  cap.className = 'visually-hidden';
  cap.textContent = t('docs.layers');
  const head = document.createElement('thead');
  head.innerHTML = '<tr><th scope="col"></th><th scope="col"></th><th scope="col"></th></tr>';
  const [h1, h2, h3] = head.querySelectorAll('th');
  h1.textContent = 'id';
  h2.textContent = t('field.name');
  h3.textContent = 'fields';
  const body = document.createElement('tbody');
  for (const [layer, fields] of Object.entries(FIELDS)) {
    const tr = document.createElement('tr');
    const id = document.createElement('td');
    const code = document.createElement('code');
    code.textContent = layer;
    id.append(code);
    const name = document.createElement('td');
    name.textContent = t(`layer.${layer}`);
    const f = document.createElement('td');
    f.textContent = fields.join(', ');
    tr.append(id, name, f);
    body.append(tr);
  }
  table.append(cap, head, body);
  document.getElementById('layer-table').replaceChildren(table);
}
layerTable();
onLangChange(layerTable);

// The downloads of each layer: GeoJSON, CSV and GeoPackage links, each named with its layer
// for screen readers.
const FORMATS = [['geojson', 'GeoJSON'], ['csv', 'CSV'], ['gpkg', 'GeoPackage']];
function downloadTable() {
  const table = document.createElement('table');
  const cap = document.createElement('caption');
  cap.className = 'visually-hidden';
  cap.textContent = t('docs.gis.downloads');
  const head = document.createElement('thead');
  const hr = document.createElement('tr');
  for (const text of [t('docs.gis.layer'), ...FORMATS.map(([, name]) => name)]) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = text;
    hr.append(th);
  }
  head.append(hr);
  const body = document.createElement('tbody');
  for (const layer of Object.keys(FIELDS)) {
    const tr = document.createElement('tr');
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = t(`layer.${layer}`);
    tr.append(name);
    for (const [ext, format] of FORMATS) {
      const td = document.createElement('td');
      const a = document.createElement('a');
      a.href = `/downloads/${layer}.${ext}`;
      a.setAttribute('download', '');
      const hidden = document.createElement('span');
      hidden.className = 'visually-hidden';
      hidden.textContent = `${t(`layer.${layer}`)}, `;
      a.append(hidden, format);
      td.append(a);
      tr.append(td);
    }
    body.append(tr);
  }
  table.append(cap, head, body);
  document.getElementById('download-table').replaceChildren(table);
}
downloadTable();
onLangChange(downloadTable);
