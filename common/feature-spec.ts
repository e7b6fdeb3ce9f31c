/**
 * What a model needs of the features it reads: dataset.json's backbone, frame size, fps, L and D. A
 * checkpoint records it (the `feature_spec` attribute of our .h5 files) so that a raw video opened with
 * the model is extracted to match. Node-free.
 */

export interface FeatureSpec {
  /** Backbone spec as `glimpse extract --backbone` takes it ('builtin', a preset, a folder or URL). */
  backbone: string;
  frameSize: { width: number; height: number } | null;
  fps: number;
  /** L = K·K grid locations. */
  locations: number;
  /** D: channels per location. */
  ctxDim: number;
}

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** Checks a parsed JSON value field by field; `where` names the file in the one-line error. */
export function parseFeatureSpec(value: unknown, where: string): FeatureSpec {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${where}: feature spec is not a JSON object`);
  const v = value as Record<string, unknown>;
  const fail = (key: string, what: string): never => {
    throw new Error(`${where}: feature spec ${key} must be ${what}, got ${JSON.stringify(v[key] ?? null)}`);
  };
  if (typeof v.backbone !== 'string' || v.backbone === '') fail('backbone', 'a non-empty string');
  if (typeof v.fps !== 'number' || !(v.fps > 0) || !Number.isFinite(v.fps)) fail('fps', 'a positive number');
  if (!isPositiveInt(v.locations)) fail('locations', 'a positive integer');
  if (!isPositiveInt(v.ctxDim)) fail('ctxDim', 'a positive integer');
  let frameSize: FeatureSpec['frameSize'] = null;
  if (v.frameSize !== null && v.frameSize !== undefined) {
    const size = v.frameSize as Record<string, unknown>;
    if (typeof size !== 'object' || !isPositiveInt(size.width) || !isPositiveInt(size.height))
      fail('frameSize', '{ width, height } in pixels or null');
    frameSize = { width: size.width as number, height: size.height as number };
  }
  return {
    backbone: v.backbone as string,
    frameSize,
    fps: v.fps as number,
    locations: v.locations as number,
    ctxDim: v.ctxDim as number,
  };
}
