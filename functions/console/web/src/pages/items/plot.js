// Hall positions on a small plane (no map tiles offline): lat/lng scaled into
// a box with a margin, north up, keeping the east-west distance true at the
// halls' latitude. Pure functions.

/** `{ x, y }` in a `width` x `height` box for each of `points` ({ lat, lng }). */
export function project(points, width, height, margin = 24) {
  if (!points.length) return [];
  const lat0 = (Math.min(...points.map((p) => p.lat)) + Math.max(...points.map((p) => p.lat))) / 2;
  const k = Math.cos((lat0 * Math.PI) / 180);
  const xs = points.map((p) => p.lng * k);
  const ys = points.map((p) => p.lat);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const span = Math.max(x1 - x0, y1 - y0, 1e-6);
  const scale = Math.min(width - 2 * margin, height - 2 * margin) / span;
  const ox = (width - (x1 - x0) * scale) / 2;
  const oy = (height - (y1 - y0) * scale) / 2;
  return points.map((p, i) => ({ x: ox + (xs[i] - x0) * scale, y: height - (oy + (ys[i] - y0) * scale) }));
}

/** The plot's scale bar: a round number of kilometres and its length in the box. */
export function scaleBar(points, width, height, margin = 24) {
  if (points.length < 2) return null;
  const lat0 = (Math.min(...points.map((p) => p.lat)) + Math.max(...points.map((p) => p.lat))) / 2;
  const k = Math.cos((lat0 * Math.PI) / 180);
  const xs = points.map((p) => p.lng * k);
  const ys = points.map((p) => p.lat);
  const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys), 1e-6);
  const pxPerKm = Math.min(width - 2 * margin, height - 2 * margin) / span / 111.32;
  const km = [0.5, 1, 2, 5, 10, 20, 50].find((d) => d * pxPerKm >= 60) ?? 50;
  return { km, px: km * pxPerKm };
}
