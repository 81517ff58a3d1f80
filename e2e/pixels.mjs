// Reading what the browser drew: a minimal PNG decoder for Chromium's screenshots (8-bit
// greyscale, RGB or RGBA, not interlaced) on node:zlib, and the colour arithmetic the map's
// pixel checks use.
import { inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// Bytes a pixel of each colour type has at bit depth 8.
const CHANNELS = { 0: 1, 2: 3, 4: 2, 6: 4 };

// decodePNG returns { width, height, pixel(x, y) -> [r, g, b] } of a PNG screenshot.
export function decodePNG(buf) {
  if (!buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('decodePNG: not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat = [];
  for (let pos = 8; pos < buf.length;) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    pos += 12 + len; // length, type, body, CRC
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colorType, , , interlace] = body.subarray(8, 13);
      channels = CHANNELS[colorType];
      if (depth !== 8 || !channels || interlace !== 0) {
        throw new Error(`decodePNG: bit depth ${depth}, colour type ${colorType}, interlace ${interlace} unsupported`);
      }
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
  }
  if (!width || !idat.length) throw new Error('decodePNG: no IHDR or IDAT chunk');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(stride * height);
  // Undo the per-row filters (PNG spec, section 9).
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = out.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? out.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? row[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let p;
      switch (filter) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = b; break;
        case 3: p = (a + b) >> 1; break;
        case 4: {
          const q = a + b - c;
          const pa = Math.abs(q - a);
          const pb = Math.abs(q - b);
          const pc = Math.abs(q - c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`decodePNG: row ${y} has unknown filter ${filter}`);
      }
      row[i] = (src[i] + p) & 0xff;
    }
  }
  return {
    width,
    height,
    pixel(x, y) {
      const o = y * stride + x * channels;
      return channels < 3 ? [out[o], out[o], out[o]] : [out[o], out[o + 1], out[o + 2]];
    },
  };
}

// medianRGB is the per-channel median of the (2r+1)² pixels around (x, y): one stray pixel of
// an outline or of antialiasing does not move it.
export function medianRGB(img, x, y, r = 1) {
  const ch = [[], [], []];
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const p = img.pixel(Math.round(x) + dx, Math.round(y) + dy);
      for (let i = 0; i < 3; i++) ch[i].push(p[i]);
    }
  }
  return ch.map((v) => v.sort((a, b) => a - b)[v.length >> 1]);
}

// hexRGB reads #rgb or #rrggbb.
export function hexRGB(hex) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new Error(`not a hex colour: ${hex}`);
  const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
}

// cssRGB reads a computed CSS colour, rgb(r, g, b) or rgba(r, g, b, a).
export function cssRGB(css) {
  const m = /^rgba?\(\s*(\d+)[,\s]+(\d+)[,\s]+(\d+)/.exec(css);
  if (!m) throw new Error(`not an rgb() colour: ${css}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

// blend is colour drawn at opacity over the colour under it, as the map composites a layer.
export function blend(colour, opacity, under) {
  return colour.map((c, i) => opacity * c + (1 - opacity) * under[i]);
}

// distance is the Euclidean distance of two RGB colours (0–255 a channel; at most 441.7).
export function distance(a, b) {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

// hsv returns [hue in degrees, saturation 0–1, value 0–1].
export function hsv([r, g, b]) {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = 60 * (((g - b) / d) % 6);
    else if (max === g) h = 60 * ((b - r) / d + 2);
    else h = 60 * ((r - g) / d + 4);
  }
  return [(h + 360) % 360, max ? d / max : 0, max / 255];
}

// hueGap is the angle between two hues, 0–180 degrees.
export function hueGap(a, b) {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

export const rgbText = (c) => `rgb(${c.map((v) => Math.round(v)).join(', ')})`;

// drawnAt runs in the page (page.evaluate(drawnAt, args)): for each GeoJSON feature of the API,
// it looks for a screen point of window.map where that feature alone is drawn, and returns
// { id, x, y, props, colour: [r, g, b], opacity } with the feature's tile properties and the
// colour and opacity the style gives that feature there (MapLibre's queryRenderedFeatures evaluates the layer's paint for the feature).
//   layer        the map layer that draws the features (e.g. ct-buildings)
//   colourProp   its colour paint property; opacityProp its opacity property
//   extruded     3D: the point is where the footprint lies on the ground, and what counts is
//                the extruded building nearest the eye there, whichever it is
//   max          how many points to return
// A point qualifies when it is on the canvas itself (no control or popup over it), away from the
// map's edges, and, in 2D, at least 6 px inside the polygon with nothing else drawn within 4 px
// (so the feature is drawn over the bare background); a point feature qualifies when no other
// circle is within 12 px, and comes with its radius (stroke included) so that the caller can
// see what it is drawn over.
export function drawnAt({ features, layer, colourProp, opacityProp, extruded = false, max = 5 }) {
  const m = window.map;
  const canvas = m.getCanvas();
  const rect = canvas.getBoundingClientRect();
  const W = canvas.clientWidth;
  const H = canvas.clientHeight;
  const onCanvas = (x, y) => x > 60 && y > 60 && x < W - 60 && y < H - 60
    && document.elementFromPoint(rect.left + x, rect.top + y) === canvas;
  const box = (x, y, r) => [[x - r, y - r], [x + r, y + r]];
  const paintOf = (f) => {
    const c = f.layer.paint[colourProp];
    const a = c.a || 1; // MapLibre keeps colours premultiplied by their alpha
    return { colour: [c.r, c.g, c.b].map((v) => (v / a) * 255), opacity: f.layer.paint[opacityProp] ?? 1 };
  };
  const circles = ['ct-facilities', 'ct-air'].filter((id) => m.getLayer(id) && m.getLayoutProperty(id, 'visibility') !== 'none');

  const inRing = (ring, x, y) => {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
  const edgeGap = (rings, x, y) => {
    let best = Infinity;
    for (const ring of rings) {
      for (let i = 1; i < ring.length; i++) {
        const [ax, ay] = ring[i - 1];
        const [bx, by] = ring[i];
        const dx = bx - ax;
        const dy = by - ay;
        const t = dx || dy ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy))) : 0;
        best = Math.min(best, Math.hypot(x - (ax + t * dx), y - (ay + t * dy)));
      }
    }
    return best;
  };
  // interior returns the points of a polygon at least 6 px from its edges, farthest first.
  const interior = (poly) => {
    const rings = poly.map((r) => r.map((c) => { const p = m.project(c); return [p.x, p.y]; }));
    const xs = rings[0].map((p) => p[0]);
    const ys = rings[0].map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    if (x1 - x0 < 14 || y1 - y0 < 14 || x1 < 0 || y1 < 0 || x0 > W || y0 > H) return [];
    const step = Math.max(2, Math.min(x1 - x0, y1 - y0) / 8);
    const pts = [];
    for (let y = y0 + step / 2; y < y1; y += step) {
      for (let x = x0 + step / 2; x < x1; x += step) {
        if (!inRing(rings[0], x, y) || rings.slice(1).some((h) => inRing(h, x, y))) continue;
        const gap = edgeGap(rings, x, y);
        if (gap >= 6) pts.push({ x, y, gap });
      }
    }
    return pts.sort((a, b) => b.gap - a.gap).slice(0, 6);
  };
  const polygons = (g) => (g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : []);

  const out = [];
  for (const f of features) {
    if (out.length >= max) break;
    if (f.geometry.type === 'Point') {
      const p = m.project(f.geometry.coordinates);
      if (!onCanvas(p.x, p.y)) continue;
      const near = m.queryRenderedFeatures(box(p.x, p.y, 12), { layers: circles });
      if (near.length !== 1 || near[0].layer.id !== layer || String(near[0].id) !== String(f.id)) continue;
      const paint = near[0].layer.paint;
      out.push({ id: f.id, x: p.x, y: p.y, props: near[0].properties, ...paintOf(near[0]), radius: (paint['circle-radius'] ?? 5) + (paint['circle-stroke-width'] ?? 0) });
      continue;
    }
    let found = null;
    for (const poly of polygons(f.geometry)) {
      for (const { x, y } of interior(poly)) {
        if (!onCanvas(x, y)) continue;
        if (extruded) {
          // The nearest extruded building at the point and at four points around it must be
          // one and the same, with no circle drawn near.
          if (m.queryRenderedFeatures(box(x, y, 12), { layers: circles }).length) continue;
          const tops = [[0, 0], [-4, -4], [4, -4], [-4, 4], [4, 4]].map(([dx, dy]) => m.queryRenderedFeatures([x + dx, y + dy])[0]);
          if (tops.some((t) => !t || t.layer.id !== layer || String(t.id) !== String(tops[0].id))) continue;
          found = { id: tops[0].id, x, y, props: tops[0].properties, ...paintOf(tops[0]) };
        } else {
          const hits = m.queryRenderedFeatures(box(x, y, 4));
          if (hits.length !== 1 || hits[0].layer.id !== layer || String(hits[0].id) !== String(f.id)) continue;
          found = { id: f.id, x, y, props: hits[0].properties, ...paintOf(hits[0]) };
        }
        break;
      }
      if (found) break;
    }
    if (found && !out.some((o) => String(o.id) === String(found.id))) out.push(found);
  }
  return out;
}

// bareAt runs in the page: up to max points of window.map's canvas where nothing is drawn
// within 6 px, where the map shows its background.
export function bareAt({ max = 3 }) {
  const m = window.map;
  const canvas = m.getCanvas();
  const rect = canvas.getBoundingClientRect();
  const W = canvas.clientWidth;
  const H = canvas.clientHeight;
  const out = [];
  for (let y = 80; y < H - 80 && out.length < max; y += 23) {
    for (let x = 80; x < W - 80 && out.length < max; x += 29) {
      if (document.elementFromPoint(rect.left + x, rect.top + y) !== canvas) continue;
      if (m.queryRenderedFeatures([[x - 6, y - 6], [x + 6, y + 6]]).length === 0) out.push({ x, y });
    }
  }
  return out;
}
