/**
 * Writing a split in the reference layout: `{split}_features.h5` with a chunked, resizable float32
 * `features` dataset (rows channel-major, appended video by video), then on finish() the text files.
 *
 * HDF5 object headers carry no wall-clock time (atFixedTime): the same videos give the same file bytes,
 * whether written in one run, resumed, or merged from a queue's shards.
 *
 * Crash safety: after each complete video the HDF5 file is flushed and fsynced, then the video is
 * appended (fsynced) to `{split}_features.journal.jsonl`. Reopening with resume() trusts the journal
 * (or, for a finished split, the text files), drops rows past the last complete video, and carries on.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Module as h5wasmModule } from 'h5wasm/node';
import {
  atFixedTime,
  createHdf5,
  errorLine,
  getFloatMatrix,
  openHdf5,
  type Dataset,
  type H5File,
} from './hdf5.ts';
import { locationMajorToChannelMajor } from './layout.ts';
import { splitFiles } from './split.ts';
import {
  labelLine,
  linesText,
  looksMultilabel,
  parseFrameCounts,
  parseLabels,
  readLines,
  type Label,
} from './text-files.ts';
import { writeFileAtomic } from '../atomic-file.ts';

export { writeClasses, writeDatasetJson, type DatasetInfo } from './dataset-info.ts';

export interface WrittenVideo {
  file: string;
  label: Label;
  frames: number;
}

export interface FeatureWriterOptions {
  /** Grid locations per frame. */
  L: number;
  /** Channels per location. */
  D: number;
  /** 'none' (default: fastest to read, as the reference files) or 'gzip'. */
  compression?: 'none' | 'gzip';
  gzipLevel?: number;
  /** Rows per HDF5 chunk (default: about 1 MiB per chunk, so chunks fit HDF5's default chunk cache). */
  chunkRows?: number;
}

/** Largest hyperslab written at once, well inside h5wasm's heap. */
const MAX_WRITE_BYTES = 64 * 1024 * 1024;

export function journalPath(dir: string, split: string): string {
  return path.join(dir, `${split}_features.journal.jsonl`);
}

export class FeatureSplitWriter {
  private h5: H5File | null;
  private journalFd: number | null;
  private readonly done: WrittenVideo[];
  private completeRows: number;
  private current: { file: string; label: Label; frames: number } | null = null;
  private readonly width: number;

  private constructor(
    readonly dir: string,
    readonly split: string,
    readonly L: number,
    readonly D: number,
    h5: H5File,
    private readonly ds: Dataset,
    videos: WrittenVideo[],
  ) {
    this.h5 = h5;
    this.width = L * D;
    this.done = videos;
    this.completeRows = videos.reduce((a, v) => a + v.frames, 0);
    const journal = journalPath(dir, split);
    // Rewritten whole so that it lists exactly the videos that survived; appended to from then on.
    writeSyncAtomic(journal, videos.map((v) => JSON.stringify(v) + '\n').join(''));
    this.journalFd = openSync(journal, 'a');
  }

  /** Starts the split afresh: truncates `{split}_features.h5` and forgets earlier progress. */
  static async create(dir: string, split: string, opts: FeatureWriterOptions): Promise<FeatureSplitWriter> {
    const { L, D } = checkShape(opts);
    const files = splitFiles(dir, split);
    await mkdir(dir, { recursive: true });
    // A framenum file from an earlier run would describe rows that are about to disappear.
    await rm(files.framenum, { force: true });
    const h5 = await createHdf5(files.features, { fixedTime: true });
    try {
      const width = L * D;
      const chunkRows = opts.chunkRows ?? Math.min(1024, Math.max(1, Math.floor((1 << 20) / (width * 4))));
      if (!Number.isInteger(chunkRows) || chunkRows <= 0) {
        throw new Error(`${files.features}: chunkRows must be a positive integer`);
      }
      const gzip = opts.compression === 'gzip';
      atFixedTime(() => {
        h5.create_dataset({
          name: 'features',
          data: new Float32Array(0),
          shape: [0, width],
          dtype: '<f',
          maxshape: [null, width],
          chunks: [chunkRows, width],
          ...(gzip ? { compression: 'gzip' as const, compression_opts: opts.gzipLevel ?? 4 } : {}),
        });
        h5.flush();
      });
      const ds = await getFloatMatrix(h5, files.features, 'features');
      return new FeatureSplitWriter(dir, split, L, D, h5, ds, []);
    } catch (err) {
      h5.close();
      throw err;
    }
  }

  /**
   * Reopens a split to append to it (creates it when there is no features file). Videos come from the
   * journal, else from the text files of a finished split; rows past the last complete video are dropped.
   */
  static async resume(dir: string, split: string, opts: FeatureWriterOptions): Promise<FeatureSplitWriter> {
    const { L, D } = checkShape(opts);
    const files = splitFiles(dir, split);
    if (!existsSync(files.features)) return FeatureSplitWriter.create(dir, split, opts);
    const videos = await previousVideos(dir, split);
    let h5: H5File;
    try {
      h5 = await openHdf5(files.features, 'a');
    } catch (err) {
      // A crash before the first complete video can leave an unreadable file; nothing is lost by starting over.
      if (videos.length === 0) return FeatureSplitWriter.create(dir, split, opts);
      throw err;
    }
    try {
      const ds = await getFloatMatrix(h5, files.features, 'features');
      const [rows, width] = ds.metadata.shape as [number, number];
      if (width !== L * D) {
        throw new Error(`${files.features}: row width ${width} does not match L=${L} × D=${D}`);
      }
      const maxRows = (ds.metadata.maxshape ?? [rows])[0];
      if (ds.metadata.chunks === null || maxRows < Number.MAX_SAFE_INTEGER) {
        throw new Error(
          `${files.features}: 'features' is not resizable (needs chunks and unlimited rows) to append to`,
        );
      }
      let total = videos.reduce((a, v) => a + v.frames, 0);
      // Only an OS crash can lose flushed rows; then the videos they belonged to are dropped too.
      while (total > rows) total -= (videos.pop() as WrittenVideo).frames;
      atFixedTime(() => {
        if (rows !== total) ds.resize([total, width]);
        h5.flush();
      });
      return new FeatureSplitWriter(dir, split, L, D, h5, ds, videos);
    } catch (err) {
      h5.close();
      throw err;
    }
  }

  get featuresPath(): string {
    return splitFiles(this.dir, this.split).features;
  }

  /** Rows of complete videos. */
  get rows(): number {
    return this.completeRows;
  }

  /** Complete videos, in order. */
  get videos(): readonly WrittenVideo[] {
    return this.done;
  }

  beginVideo(file: string, label: Label): void {
    this.open();
    if (this.current) throw new Error(`${this.featuresPath}: video ${this.current.file} is still open`);
    if (file.trim() === '' || /[\r\n]/.test(file)) {
      throw new Error(`${this.featuresPath}: video file name ${JSON.stringify(file)} is invalid`);
    }
    checkLabel(this.featuresPath, file, label, this.done[0]?.label);
    this.current = { file, label, frames: 0 };
  }

  /** Appends frames of the open video, given location-major (F, L, D). */
  appendFrames(frames: Float32Array): void {
    const ds = this.dataset();
    const current = this.current;
    if (!current) throw new Error(`${this.featuresPath}: appendFrames before beginVideo`);
    if (frames.length % this.width !== 0) {
      throw new Error(
        `${this.featuresPath}: ${frames.length} values are not whole frames of ${this.L}×${this.D}`,
      );
    }
    const count = frames.length / this.width;
    const perWrite = Math.max(1, Math.floor(MAX_WRITE_BYTES / (this.width * 4)));
    for (let first = 0; first < count; first += perWrite) {
      const n = Math.min(perWrite, count - first);
      const at = this.completeRows + current.frames;
      const rows = locationMajorToChannelMajor(
        frames.subarray(first * this.width, (first + n) * this.width),
        this.L,
        this.D,
        n,
      );
      try {
        atFixedTime(() => {
          ds.resize([at + n, this.width]);
          ds.write_slice([[at, at + n]], rows);
        });
      } catch (err) {
        throw new Error(`${this.featuresPath}: cannot write rows ${at}..${at + n - 1} (${errorLine(err)})`);
      }
      current.frames += n;
    }
  }

  /** Completes the open video: flushes and fsyncs the rows, then records the video in the journal. */
  endVideo(): void {
    const h5 = this.open();
    const current = this.current;
    if (!current) throw new Error(`${this.featuresPath}: endVideo without beginVideo`);
    if (current.frames === 0) throw new Error(`${this.featuresPath}: video ${current.file} has no frames`);
    // h5wasm's File.flush() drops H5Fflush's status, and with it a full disk: check it, so that a video
    // whose rows did not reach the disk is never journalled as complete.
    if (atFixedTime(() => h5wasmModule.flush(h5.file_id)) < 0) {
      throw new Error(`${this.featuresPath}: cannot write to disk (full, or file size limit reached)`);
    }
    fsyncPath(this.featuresPath);
    writeSync(this.journalFd as number, JSON.stringify(current) + '\n');
    fsyncSync(this.journalFd as number);
    this.done.push(current);
    this.completeRows += current.frames;
    this.current = null;
  }

  /** Discards the open video's rows. */
  abortVideo(): void {
    if (!this.current) return;
    const ds = this.dataset();
    atFixedTime(() => ds.resize([this.completeRows, this.width]));
    this.current = null;
  }

  /** One whole video, location-major (F, L, D). */
  addVideo(file: string, label: Label, frames: Float32Array): void {
    this.beginVideo(file, label);
    this.appendFrames(frames);
    this.endVideo();
  }

  /** Closes the features file and writes `{split}_labels.txt`, `_filename.txt`, then `_framenum.txt`. */
  async finish(): Promise<void> {
    if (this.current) throw new Error(`${this.featuresPath}: video ${this.current.file} is still open`);
    this.close();
    fsyncPath(this.featuresPath);
    const files = splitFiles(this.dir, this.split);
    await writeFileAtomic(files.labels, linesText(this.done.map((v) => labelLine(v.label))));
    await writeFileAtomic(files.filename, linesText(this.done.map((v) => v.file)));
    await writeFileAtomic(files.framenum, linesText(this.done.map((v) => String(v.frames))));
    await rm(journalPath(this.dir, this.split), { force: true });
  }

  /** Closes without finishing; a partly written video is dropped when the split is resumed. */
  close(): void {
    if (this.journalFd !== null) closeSync(this.journalFd);
    this.journalFd = null;
    const h5 = this.h5;
    if (h5) atFixedTime(() => h5.close());
    this.h5 = null;
  }

  private open(): H5File {
    if (!this.h5) throw new Error(`${this.featuresPath}: writer is closed`);
    return this.h5;
  }

  private dataset(): Dataset {
    this.open();
    return this.ds;
  }
}

/** Writes a whole split from memory (tests, small datasets). Frames are location-major (F, L, D). */
export async function writeFeatureDataset(
  dir: string,
  split: string,
  videos: readonly { file: string; label: Label; frames: Float32Array }[],
  L: number,
  D: number,
  opts: Omit<FeatureWriterOptions, 'L' | 'D'> = {},
): Promise<void> {
  const writer = await FeatureSplitWriter.create(dir, split, { ...opts, L, D });
  try {
    for (const v of videos) writer.addVideo(v.file, v.label, v.frames);
    await writer.finish();
  } finally {
    writer.close();
  }
}

function checkShape(opts: FeatureWriterOptions): { L: number; D: number } {
  const { L, D } = opts;
  if (!Number.isInteger(L) || L <= 0 || !Number.isInteger(D) || D <= 0) {
    throw new Error(`feature writer: L and D must be positive integers, got L=${L}, D=${D}`);
  }
  return { L, D };
}

function checkLabel(where: string, file: string, label: Label, first: Label | undefined): void {
  if (Array.isArray(label)) {
    const width = Array.isArray(first) ? first.length : label.length;
    if (first !== undefined && !Array.isArray(first)) {
      throw new Error(`${where}: ${file}: multi-label flags in a single-label split`);
    }
    if (label.length === 0 || label.length !== width || label.some((f) => f !== 0 && f !== 1)) {
      throw new Error(`${where}: ${file}: label must be ${width || 'some'} 0/1 flags`);
    }
  } else {
    if (first !== undefined && Array.isArray(first))
      throw new Error(`${where}: ${file}: class id in a multi-label split`);
    if (!Number.isInteger(label) || label < 0)
      throw new Error(`${where}: ${file}: class id ${label} is invalid`);
  }
}

/** Complete videos recorded by an earlier run: the journal, else a finished split's text files, else none. */
async function previousVideos(dir: string, split: string): Promise<WrittenVideo[]> {
  const journal = journalPath(dir, split);
  if (existsSync(journal)) {
    const text = await readFile(journal, 'utf8');
    const lines = text.split('\n');
    // The last piece is '' after a complete line, or a line cut short by a crash: either way not a video.
    lines.pop();
    return lines.map((line, i) => {
      try {
        const v = JSON.parse(line) as WrittenVideo;
        if (typeof v.file !== 'string' || !Number.isInteger(v.frames) || v.frames <= 0)
          throw new Error('bad entry');
        return { file: v.file, label: v.label, frames: v.frames };
      } catch {
        throw new Error(`${journal}: line ${i + 1} is not a video record`);
      }
    });
  }
  const files = splitFiles(dir, split);
  if (!existsSync(files.framenum)) return [];
  const frames = parseFrameCounts(files.framenum, await readLines(files.framenum));
  const labelLines = await readLines(files.labels);
  const labels = parseLabels(files.labels, labelLines, looksMultilabel(labelLines), undefined);
  const names = existsSync(files.filename)
    ? await readLines(files.filename)
    : frames.map((_, i) => `video_${i}`);
  if (labels.length !== frames.length || names.length !== frames.length) {
    throw new Error(`${files.framenum}: lists ${frames.length} videos but labels/filename files disagree`);
  }
  return frames.map((n, i) => ({ file: names[i], label: labels[i], frames: n }));
}

function fsyncPath(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** writeFileAtomic, synchronously: temp file, fsync, rename; the temp file is removed on failure. */
function writeSyncAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
