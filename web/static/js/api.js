// Calls to CityTwin's JSON API. Errors arrive as {"error": {"code", "message", "field"}};
// they are thrown as ApiError with those fields.

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
  }
}

let token = '';
export function setToken(tok) { token = tok || ''; }
export function getToken() { return token; }

// Every write to an existing scenario needs If-Match with the scenario's ETag (the server
// answers 428 without). api remembers each scenario's ETag from the answers it reads — the
// ETag header of a scenario, its changes, a write or a run, and the version of each scenario
// an answer holds (a scenario's ETag is its version in quotes) — and sends it on the next
// write to that scenario. A 412 (someone else changed the scenario meanwhile) is thrown like
// any error, never retried: the page shows it and reads the scenario again.
const etags = new Map();
const SCENARIO_PATH = /^\/api\/scenarios\/([0-9a-f]{16})(\/changes(\/[^/?]+)?|\/run)?(\?.*)?$/;

// scenarioETag is the ETag api would send on a write to scenario id (undefined: none seen).
export function scenarioETag(id) { return etags.get(id); }

function rememberVersions(data) {
  const scs = [data, data?.scenario, ...(Array.isArray(data?.scenarios) ? data.scenarios : [])];
  for (const sc of scs) {
    if (sc && typeof sc.id === 'string' && Number.isInteger(sc.version)) etags.set(sc.id, `"${sc.version}"`);
  }
}

// api sends a request; a body object is sent as JSON. Resolves to the decoded JSON answer
// (or null for 204), with the response headers on .headers of a wrapper when asked.
export async function api(path, { method = 'GET', body, headers = {}, raw = false } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  const id = SCENARIO_PATH.exec(path)?.[1];
  const write = method !== 'GET' && method !== 'HEAD';
  if (id && write && !('If-Match' in h) && etags.has(id)) h['If-Match'] = etags.get(id);
  const init = { method, headers: h };
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const tag = res.headers.get('ETag');
  if (id && res.ok) {
    if (method === 'DELETE' && path === `/api/scenarios/${id}`) etags.delete(id);
    else if (tag) etags.set(id, tag);
  }
  if (raw) return res;
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error: { message: text.slice(0, 200) } }; }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  if (!tag || !id) rememberVersions(data);
  return data;
}

// list takes the array out of an answer that is an array or wraps one.
export function list(data, ...keys) {
  if (Array.isArray(data)) return data;
  for (const k of [...keys, 'items', 'results', 'features', 'data']) {
    if (data && Array.isArray(data[k])) return data[k];
  }
  return [];
}

// Nearest facilities (or public green spaces, for kind park) of a kind, from /api/nearest:
// normalised to [{id, layer, name, kind, distance_m, lonlat}], where lonlat is the point of
// the feature nearest to (lon, lat) — the facility itself, or a park's nearest edge point.
export async function nearest(lon, lat, kind, k = 1) {
  const q = new URLSearchParams({ lon: lon.toFixed(6), lat: lat.toFixed(6), kind, k: String(k) });
  const data = await api(`/api/nearest?${q}`);
  return list(data, 'features').map((f) => {
    const props = f.properties || {};
    return {
      id: f.id,
      layer: kind === 'park' ? 'green_spaces' : 'facilities',
      name: props.name || '',
      kind: props.kind || kind,
      distance_m: Number(props.distance_m),
      lonlat: nearestPoint(lon, lat, f.geometry),
      properties: props,
    };
  });
}

// nearestPoint is a point geometry's own position, or the nearest point of a polygon's edge.
function nearestPoint(lon, lat, geom) {
  if (!geom) return null;
  if (geom.type === 'Point') return geom.coordinates;
  const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.type === 'MultiPolygon' ? geom.coordinates : [];
  const m = local(lat);
  let best = { d: Infinity, pt: null };
  for (const rings of polys) {
    const r = distanceToPolygon(lon, lat, rings, m);
    if (r.d < best.d) best = r;
  }
  return best.pt;
}

// Metres per degree near a latitude (equirectangular, good to a fraction of a percent over a
// few kilometres).
function local(lat0) {
  const kx = 111320 * Math.cos((lat0 * Math.PI) / 180);
  const ky = 110574;
  return { kx, ky };
}

// distanceToPolygon: 0 inside, else the distance to the nearest edge, in metres, and the
// nearest point (lon/lat).
function distanceToPolygon(lon, lat, rings, { kx, ky }) {
  let inside = false;
  let best = Infinity;
  let bestPt = null;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
      const ax = (xj - lon) * kx; const ay = (yj - lat) * ky;
      const bx = (xi - lon) * kx; const by = (yi - lat) * ky;
      const dx = bx - ax; const dy = by - ay;
      const len = dx * dx + dy * dy;
      const tt = len ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len)) : 0;
      const px = ax + tt * dx; const py = ay + tt * dy;
      const d = Math.hypot(px, py);
      if (d < best) { best = d; bestPt = [lon + px / kx, lat + py / ky]; }
    }
  }
  return inside ? { d: 0, pt: [lon, lat] } : { d: best, pt: bestPt };
}
