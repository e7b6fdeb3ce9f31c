/**
 * The HDF5 file to import: which dataset holds the features (the one named, else `features`, else the
 * only float array of rank 2 or 4), its shape, and blocks of frames read by hyperslab along a
 * candidate's frame axis, so a file larger than memory is read piece by piece.
 */
import { errorLine, loadH5wasm, openHdf5, type Dataset, type H5File } from '../../../model/data/hdf5.ts';
import type { LayoutCandidate } from './layouts.ts';

export interface ImportSource extends Disposable {
  readonly file: string;
  /** Path of the dataset inside the file. */
  readonly key: string;
  readonly shape: readonly number[];
  /** 'float32' or 'float64' (converted to float32: the reference layout is float32). */
  readonly dtype: string;
  /** Frames [start, start + count) along the candidate's frame axis, as the C-order block of the file. */
  readBlock(candidate: LayoutCandidate, start: number, count: number): Float32Array;
  close(): void;
}

/** Every dataset of the file with its path, depth first (groups are walked). */
function datasets(h5: H5File, lib: Awaited<ReturnType<typeof loadH5wasm>>): { key: string; ds: Dataset }[] {
  const found: { key: string; ds: Dataset }[] = [];
  const walk = (group: H5File | InstanceType<typeof lib.Group>, prefix: string) => {
    for (const name of group.keys()) {
      const entity = group.get(name);
      const key = prefix ? `${prefix}/${name}` : name;
      if (entity instanceof lib.Dataset) found.push({ key, ds: entity });
      else if (entity instanceof lib.Group) walk(entity, key);
    }
  };
  walk(h5, '');
  return found;
}

function isFloatArray(ds: Dataset): boolean {
  const meta = ds.metadata;
  return meta.type === 1 && (meta.size === 4 || meta.size === 8) && (meta.shape?.length ?? 0) >= 1;
}

export async function openImportSource(file: string, key?: string): Promise<ImportSource> {
  const h5 = await openHdf5(file, 'r');
  try {
    const lib = await loadH5wasm();
    const all = datasets(h5, lib);
    let chosen: { key: string; ds: Dataset } | undefined;
    if (key !== undefined) {
      chosen = all.find((d) => d.key === key.replace(/^\//, ''));
      if (!chosen) {
        throw new Error(
          `${file}: no dataset '${key}' (has ${all.map((d) => `'${d.key}'`).join(', ') || 'none'})`,
        );
      }
    } else {
      const floats = all.filter(
        (d) => isFloatArray(d.ds) && [2, 4].includes(d.ds.metadata.shape?.length ?? 0),
      );
      chosen = floats.find((d) => d.key === 'features') ?? (floats.length === 1 ? floats[0] : undefined);
      if (!chosen && floats.length > 1) {
        throw new Error(
          `${file}: several float arrays (${floats.map((d) => `'${d.key}'`).join(', ')}); name one with --key`,
        );
      }
      // No float array of a usable rank: report on the first dataset, so the message says what is wrong with it.
      chosen ??= all.find((d) => isFloatArray(d.ds)) ?? all[0];
      if (!chosen) throw new Error(`${file}: holds no dataset`);
    }
    const { ds } = chosen;
    const meta = ds.metadata;
    if (!isFloatArray(ds) || !meta.littleEndian) {
      throw new Error(
        `${file}: '${chosen.key}' must hold little-endian float32 or float64 values (has ${String(ds.dtype)})`,
      );
    }
    const shape = (meta.shape ?? []).map(Number);
    const dtype = meta.size === 4 ? 'float32' : 'float64';
    let open = true;
    const close = () => {
      if (open) h5.close();
      open = false;
    };
    const source: ImportSource = {
      file,
      key: chosen.key,
      shape,
      dtype,
      readBlock(c, start, count) {
        const ranges = shape.map((n, axis): [number, number] =>
          axis === c.frameAxis ? [start, start + count] : [0, n],
        );
        let data: unknown;
        try {
          data = ds.slice(ranges);
        } catch (err) {
          throw new Error(`${file}: cannot read frames ${start}..${start + count - 1} (${errorLine(err)})`);
        }
        if (data instanceof Float32Array) return data;
        if (data instanceof Float64Array) return Float32Array.from(data);
        throw new Error(`${file}: frames ${start}..${start + count - 1} did not read as floats`);
      },
      close,
      [Symbol.dispose]: close,
    };
    return source;
  } catch (err) {
    h5.close();
    throw err;
  }
}
