// Validates MapLibre GL styles against the style specification (the validator MapLibre GL
// itself ships), for the Go tests of the web package.
//
// Usage: node e2e/validate-style.mjs STYLE.json [STYLE.json ...]
// Prints each error as "FILE: message" and exits 1 when there is any.
import { readFileSync } from 'node:fs';
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';

let failed = false;
for (const file of process.argv.slice(2)) {
  const errors = validateStyleMin(JSON.parse(readFileSync(file, 'utf8')));
  for (const e of errors) {
    failed = true;
    console.log(`${file}: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
