// The embedding page at /docs: snippets with this server's address, copy buttons, and the
// table of layers and their public fields.
import { t, initLangSwitch, onLangChange } from './i18n.js';
import { FIELDS } from './thematic.js';

initLangSwitch();

const PLACEHOLDER = 'https://citytwin.example';
for (const code of document.querySelectorAll('pre code')) {
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
