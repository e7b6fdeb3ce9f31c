/**
 * Colormaps and the attention maths the renderer (WebGL overlay, kymograph) and the engine (filmstrip and
 * video exports) share, so both draw the same pixels. Node-free.
 */

export type ColormapName = 'viridis' | 'inferno' | 'jet' | 'spotlight' | 'rdbu';

export const COLORMAPS: readonly ColormapName[] = ['viridis', 'inferno', 'jet', 'spotlight', 'rdbu'];

/**
 * matplotlib's viridis and inferno sampled at 52 evenly spaced points (hex RGB, from its 256-entry tables)
 * and joined linearly: within one level of the full tables (tested against d3's copy of them).
 */
const SAMPLED: Record<'viridis' | 'inferno', string> = {
  viridis:
    '44015446085c471063481769481d6f482475472a7a46307e453781433d844142873f48893d4e8a3a538b38598c355e8d' +
    '33638d31688e2e6d8e2c718e2a768e297b8e27808e25848e23898e218e8d20928c1f978b1e9c891fa18821a58524aa83' +
    '28ae802eb37c35b7793dbc7446c06f50c46a5ac86465cb5e70cf577cd25089d54895d840a2da37b0dd2fbddf26cae11f' +
    'd8e219e5e419f1e51dfde725',
  inferno:
    '00000402020c0504170a072210092d160b391e0c45260c512f0a5b380962400a67490b6a510e6c59106e61136e69166e' +
    '71196e781c6d801f6c88226a902568982766a02a63a82e5fb0315bb73557bf3952c63d4dcc4248d34743d94d3ddf5337' +
    'e45a31e9612bed6925f1711ff47918f78212f98b0bfa9407fb9d07fca60cfcb014fbba1ffac42af8cd37f6d746f4e156' +
    'f2ea69f2f27df5f992fcffa4',
};

/** matplotlib's `jet` segment data: per channel, (x, value) breakpoints joined linearly. */
const JET: number[][][] = [
  [
    [0, 0],
    [0.35, 0],
    [0.66, 1],
    [0.89, 1],
    [1, 0.5],
  ],
  [
    [0, 0],
    [0.125, 0],
    [0.375, 1],
    [0.64, 1],
    [0.91, 0],
    [1, 0],
  ],
  [
    [0, 0.5],
    [0.11, 1],
    [0.34, 1],
    [0.65, 0],
    [1, 0],
  ],
];

/** ColorBrewer's 11-class RdBu, red (0) to blue (1), joined linearly as matplotlib's `RdBu`. */
const RDBU = '67001fb2182bd6604df4a582fddbc7f7f7f7d1e5f092c5de4393c32166ac053061';

/** Linear interpolation at t ∈ [0, 1] between evenly spaced hex RGB anchors. */
function sampled(hex: string, t: number): [number, number, number] {
  const n = hex.length / 6;
  const x = t * (n - 1);
  const i = Math.min(n - 2, Math.floor(x));
  const f = x - i;
  const channel = (k: number, ch: number) => parseInt(hex.slice(k * 6 + ch * 2, k * 6 + ch * 2 + 2), 16);
  const mix = (ch: number) => Math.round(channel(i, ch) * (1 - f) + channel(i + 1, ch) * f);
  return [mix(0), mix(1), mix(2)];
}

const toByte = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);

function piecewise(points: number[][], t: number): number {
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i];
    if (t <= x1) {
      const [x0, y0] = points[i - 1];
      return y0 + ((y1 - y0) * (t - x0)) / (x1 - x0);
    }
  }
  return points[points.length - 1][1];
}

function colour(name: ColormapName, t: number): [number, number, number] {
  switch (name) {
    case 'viridis':
    case 'inferno':
      return sampled(SAMPLED[name], t);
    case 'jet':
      return [toByte(piecewise(JET[0], t)), toByte(piecewise(JET[1], t)), toByte(piecewise(JET[2], t))];
    case 'spotlight': {
      // The notebook's grey attention map (white where the model looks); blended over the frame it
      // leaves the frame visible in proportion to attention and dark elsewhere.
      const v = toByte(t);
      return [v, v, v];
    }
    case 'rdbu':
      return sampled(RDBU, t);
  }
}

const luts = new Map<ColormapName, Uint8Array>();

/** 256 RGB entries (256·3 bytes) for `name`: entry i is the colour of i / 255. */
export function colormapLut(name: ColormapName): Uint8Array {
  let lut = luts.get(name);
  if (!lut) {
    if (!COLORMAPS.includes(name)) throw new Error(`unknown colormap ${JSON.stringify(name)}`);
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) lut.set(colour(name, i / 255), i * 3);
    luts.set(name, lut);
  }
  return lut;
}

/** σ of the notebook's Gaussian (skimage pyramid_expand(..., sigma=20) at 224 px). */
export const SMOOTH_SIGMA_AT_224 = 20;

/**
 * One axis of the smooth upsampling as a matrix (n × K): the notebook's bilinear resize (pixel centres
 * aligned, edges clamped, as skimage's order-1 resize) followed by a Gaussian of σ pixels (scipy's 'reflect'
 * boundary, truncated at 4σ). Both steps are linear and separable, so the 2-D map is Ry · A · Rxᵀ.
 */
function smoothAxis(K: number, n: number, sigma: number): Float32Array {
  const bilinear = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const src = Math.min(K - 1, Math.max(0, ((i + 0.5) * K) / n - 0.5));
    const k0 = Math.floor(src);
    const k1 = Math.min(K - 1, k0 + 1);
    const f = src - k0;
    bilinear[i * K + k0] += 1 - f;
    bilinear[i * K + k1] += f;
  }
  const radius = Math.max(1, Math.round(4 * sigma));
  const taps = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let j = -radius; j <= radius; j++)
    total += taps[j + radius] = Math.exp((-0.5 * j * j) / (sigma * sigma));
  const reflect = (i: number) => {
    // scipy 'reflect' (d c b a | a b c d | d c b a), repeated for kernels wider than the image.
    const period = 2 * n;
    const m = ((i % period) + period) % period;
    return m < n ? m : period - 1 - m;
  };
  const out = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let j = -radius; j <= radius; j++) {
      const w = taps[j + radius] / total;
      const s = reflect(i + j) * K;
      for (let k = 0; k < K; k++) out[i * K + k] += w * bilinear[s + k];
    }
  }
  return out;
}

function nearestAxis(K: number, n: number): Float32Array {
  const out = new Float32Array(n * K);
  for (let i = 0; i < n; i++) out[i * K + Math.min(K - 1, Math.floor((i * K) / n))] = 1;
  return out;
}

const axisCache = new Map<string, Float32Array>();
function axis(K: number, n: number, smooth: boolean, sigma: number): Float32Array {
  const key = `${K}:${n}:${smooth ? sigma : 'nearest'}`;
  let m = axisCache.get(key);
  if (!m) {
    if (axisCache.size > 16) axisCache.clear();
    m = smooth ? smoothAxis(K, n, sigma) : nearestAxis(K, n);
    axisCache.set(key, m);
  }
  return m;
}

/**
 * The attention map α (L = K² values, l = row·K + col) as a width × height image (row-major): the true K×K
 * cells (nearest), or the reference notebook's bilinear + Gaussian with σ = 20 px at 224 px, scaled to the
 * output size per axis. Values keep α's scale (not normalised).
 */
export function upsampleAttention(
  alpha: Float32Array | number[],
  K: number,
  width: number,
  height: number,
  smooth: boolean,
): Float32Array {
  if (alpha.length !== K * K) throw new Error(`attention has ${alpha.length} values, expected K² = ${K * K}`);
  const rx = axis(K, width, smooth, (SMOOTH_SIGMA_AT_224 * width) / 224);
  const ry = axis(K, height, smooth, (SMOOTH_SIGMA_AT_224 * height) / 224);
  // rows = A · Rxᵀ (K × width), then out = Ry · rows.
  const rows = new Float32Array(K * width);
  for (let r = 0; r < K; r++)
    for (let x = 0; x < width; x++) {
      let v = 0;
      for (let c = 0; c < K; c++) v += alpha[r * K + c] * rx[x * K + c];
      rows[r * width + x] = v;
    }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const o = y * width;
    for (let r = 0; r < K; r++) {
      const w = ry[y * K + r];
      if (w === 0) continue;
      const src = r * width;
      for (let x = 0; x < width; x++) out[o + x] += w * rows[src + x];
    }
  }
  return out;
}

/** H(α) / log L: 0 when all attention is on one location, 1 when it is uniform. α is renormalised first. */
export function normalisedEntropy(alpha: Float32Array | number[]): number {
  const L = alpha.length;
  if (L < 2) return 0;
  let sum = 0;
  for (let i = 0; i < L; i++) sum += alpha[i];
  if (!(sum > 0)) return 0;
  let h = 0;
  for (let i = 0; i < L; i++) {
    const p = alpha[i] / sum;
    if (p > 0) h -= p * Math.log(p);
  }
  return h / Math.log(L);
}

/**
 * The attention-weighted mean position, in grid units: x, y ∈ [0, K], cell (row, col) centred at
 * (col + 0.5, row + 0.5), so a pixel position is x · width / K.
 */
export function attentionCentroid(alpha: Float32Array | number[], K: number): { x: number; y: number } {
  if (alpha.length !== K * K) throw new Error(`attention has ${alpha.length} values, expected K² = ${K * K}`);
  let sum = 0;
  let x = 0;
  let y = 0;
  for (let r = 0; r < K; r++)
    for (let c = 0; c < K; c++) {
      const a = alpha[r * K + c];
      sum += a;
      x += a * (c + 0.5);
      y += a * (r + 0.5);
    }
  return sum > 0 ? { x: x / sum, y: y / sum } : { x: K / 2, y: K / 2 };
}

/** map / max(map), the notebook's normalisation of the attention image (all zeros stay zeros). */
export function normaliseMap(map: Float32Array): Float32Array {
  let max = 0;
  for (let i = 0; i < map.length; i++) if (map[i] > max) max = map[i];
  const out = new Float32Array(map.length);
  if (max > 0) for (let i = 0; i < map.length; i++) out[i] = map[i] / max;
  return out;
}

/**
 * Blends a normalised attention image (values 0…1, one per pixel) over RGB (channels 3) or RGBA
 * (channels 4, alpha kept) pixels in place. Colour maps: frame·(1 − opacity) + lut(v)·opacity.
 * 'spotlight': frame·(1 − opacity + opacity·v) — the frame shown in proportion to attention, dark where
 * the model does not look (its LUT is that grey multiplier). The renderer's shader computes the same.
 */
export function blendOverlay(
  pixels: Uint8Array | Uint8ClampedArray,
  channels: 3 | 4,
  map: Float32Array,
  colormap: ColormapName,
  opacity: number,
): void {
  if (pixels.length !== map.length * channels)
    throw new Error(`overlay: ${pixels.length} bytes are not ${map.length} pixels of ${channels} channels`);
  const lut = colormapLut(colormap);
  const keep = 1 - opacity;
  for (let i = 0; i < map.length; i++) {
    const level = Math.min(255, Math.max(0, Math.round(map[i] * 255)));
    const o = i * channels;
    if (colormap === 'spotlight') {
      const gain = keep + (opacity * lut[level * 3]) / 255;
      for (let c = 0; c < 3; c++) pixels[o + c] = Math.round(pixels[o + c] * gain);
    } else {
      for (let c = 0; c < 3; c++)
        pixels[o + c] = Math.round(pixels[o + c] * keep + lut[level * 3 + c] * opacity);
    }
  }
}
