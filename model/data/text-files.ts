/**
 * The reference text files of a split (`{split}_framenum.txt`, `{split}_labels.txt`,
 * `{split}_filename.txt`) and `classes.txt`: strict parsing with one-line errors naming the file,
 * and atomic writing.
 */
import { readFile } from 'node:fs/promises';

export type Label = number | number[];

/** Non-empty lines of a text file; a trailing newline (or several) is fine, an empty line inside is not. */
export async function readLines(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT' ? `${file}: file not found` : `${file}: cannot read (${code ?? String(err)})`,
    );
  }
  const lines = text.split('\n').map((s) => (s.endsWith('\r') ? s.slice(0, -1) : s));
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  lines.forEach((line, i) => {
    if (line.trim() === '') throw new Error(`${file}: line ${i + 1} is empty`);
  });
  return lines;
}

const INTEGER = /^[+-]?\d+$/;

/** Frame counts, one positive integer per line. */
export function parseFrameCounts(file: string, lines: readonly string[]): number[] {
  return lines.map((line, i) => {
    const text = line.trim();
    const n = Number(text);
    if (!INTEGER.test(text) || !Number.isSafeInteger(n) || n <= 0) {
      throw new Error(`${file}: line ${i + 1}: frame count must be a positive integer, got '${text}'`);
    }
    return n;
  });
}

/** Whether a labels file is in the multi-label form (comma-separated flags). */
export function looksMultilabel(lines: readonly string[]): boolean {
  return lines.some((line) => line.includes(','));
}

/**
 * Labels: class ids in [0, nClasses) or, when `multilabel`, rows of 0/1 flags all of one length
 * (nClasses when given).
 */
export function parseLabels(
  file: string,
  lines: readonly string[],
  multilabel: boolean,
  nClasses: number | undefined,
): Label[] {
  if (!multilabel) {
    return lines.map((line, i) => {
      const text = line.trim();
      const id = Number(text);
      if (!INTEGER.test(text) || !Number.isSafeInteger(id)) {
        throw new Error(`${file}: line ${i + 1}: label must be an integer class id, got '${text}'`);
      }
      if (id < 0 || (nClasses !== undefined && id >= nClasses)) {
        const range = nClasses === undefined ? 'must not be negative' : `is outside 0..${nClasses - 1}`;
        throw new Error(`${file}: line ${i + 1}: class id ${id} ${range}`);
      }
      return id;
    });
  }
  let width = nClasses;
  return lines.map((line, i) => {
    const parts = line.split(',').map((s) => s.trim());
    if (parts.some((p) => p !== '0' && p !== '1')) {
      throw new Error(
        `${file}: line ${i + 1}: multi-label flags must be comma-separated 0/1, got '${line.trim()}'`,
      );
    }
    width ??= parts.length;
    if (parts.length !== width) {
      throw new Error(`${file}: line ${i + 1}: has ${parts.length} flags, expected ${width}`);
    }
    return parts.map(Number);
  });
}

/** One line per video: the class id, or comma-separated 0/1 flags (the reference Hollywood2 form). */
export function labelLine(label: Label): string {
  return Array.isArray(label) ? label.join(',') : String(label);
}

/** Lines joined with a newline after each one: the reference reader drops each line's last character. */
export function linesText(lines: readonly string[]): string {
  return lines.map((l) => l + '\n').join('');
}
