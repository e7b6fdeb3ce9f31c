/**
 * The confusion matrix drawn on a canvas (51×51 with its numbers in well under a frame: one fillRect and
 * at most one fillText per cell) and the same picture as SVG markup for export. Cells are coloured by the
 * row share (what fraction of the true class went to that prediction), numbers are the counts.
 */
import { colormapLut } from '../../../common/colormaps.ts';

/** The 2D-context calls used here (structural, so this module also compiles without the DOM library). */
export interface Canvas2d {
  font: string;
  textAlign: string;
  textBaseline: string;
  fillStyle: unknown;
  strokeStyle: unknown;
  lineWidth: number;
  clearRect(x: number, y: number, w: number, h: number): void;
  fillRect(x: number, y: number, w: number, h: number): void;
  strokeRect(x: number, y: number, w: number, h: number): void;
  fillText(text: string, x: number, y: number): void;
  save(): void;
  restore(): void;
  translate(x: number, y: number): void;
  rotate(angle: number): void;
}

export interface ConfusionLayout {
  /** Pixel size of one cell. */
  cell: number;
  /** Room for the class labels, left and top. */
  margin: number;
  size: number;
}

export function confusionLayout(n: number, maxSize = 560): ConfusionLayout {
  const margin = n > 20 ? 28 : 90;
  const cell = Math.max(6, Math.min(48, Math.floor((maxSize - margin) / n)));
  return { cell, margin, size: margin + cell * n };
}

const LUT = colormapLut('viridis');

function shareColour(share: number): [number, number, number] {
  const i = Math.max(0, Math.min(255, Math.round(share * 255))) * 3;
  return [LUT[i], LUT[i + 1], LUT[i + 2]];
}

function rowTotals(matrix: readonly number[][]): number[] {
  return matrix.map((row) => row.reduce((a, b) => a + b, 0));
}

/** Short labels: the class names for small matrices, the class ids where there is no room. */
function label(names: readonly string[], i: number, room: number): string {
  const name = names[i] ?? String(i);
  return room < 60 ? String(i) : name.length > 11 ? `${name.slice(0, 10)}…` : name;
}

export function drawConfusion(
  ctx: Canvas2d,
  matrix: readonly number[][],
  names: readonly string[],
  layout: ConfusionLayout,
  selected: { row: number; col: number } | null = null,
): void {
  const n = matrix.length;
  const { cell, margin, size } = layout;
  const totals = rowTotals(matrix);
  ctx.clearRect(0, 0, size, size);
  ctx.font = `${Math.max(7, Math.min(12, cell * 0.42))}px ui-monospace, monospace`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  const showNumbers = cell >= 9;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const count = matrix[r][c];
      const share = totals[r] > 0 ? count / totals[r] : 0;
      const [red, green, blue] = shareColour(share);
      ctx.fillStyle = count === 0 ? '#151820' : `rgb(${red},${green},${blue})`;
      ctx.fillRect(margin + c * cell, margin + r * cell, cell - 1, cell - 1);
      if (showNumbers && count > 0) {
        ctx.fillStyle = share > 0.55 ? '#0e1014' : '#e8ebf0';
        ctx.fillText(String(count), margin + c * cell + cell / 2, margin + r * cell + cell / 2);
      }
    }
  }
  ctx.fillStyle = '#8b93a1';
  const room = margin;
  for (let i = 0; i < n; i++) {
    if (n > 20 && i % 5 !== 0) continue;
    ctx.textAlign = 'right';
    ctx.fillText(label(names, i, room), margin - 4, margin + i * cell + cell / 2);
    ctx.save();
    ctx.translate(margin + i * cell + cell / 2, margin - 4);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'left';
    ctx.fillText(label(names, i, room), 0, 0);
    ctx.restore();
  }
  if (selected) {
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 2;
    ctx.strokeRect(margin + selected.col * cell - 1, margin + selected.row * cell - 1, cell + 1, cell + 1);
  }
}

/** The cell under a point of the canvas (CSS pixels), or null. */
export function cellAt(
  layout: ConfusionLayout,
  n: number,
  x: number,
  y: number,
): { row: number; col: number } | null {
  const col = Math.floor((x - layout.margin) / layout.cell);
  const row = Math.floor((y - layout.margin) / layout.cell);
  return row >= 0 && col >= 0 && row < n && col < n ? { row, col } : null;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[ch] ?? ch);
}

/** The same matrix as a standalone SVG document (export). */
export function confusionSvg(
  matrix: readonly number[][],
  names: readonly string[],
  layout: ConfusionLayout,
): string {
  const n = matrix.length;
  const { cell, margin, size } = layout;
  const totals = rowTotals(matrix);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" font-family="monospace" font-size="${Math.max(7, Math.min(12, cell * 0.42))}">`,
    `<rect width="${size}" height="${size}" fill="#0e1014"/>`,
  ];
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) {
      const count = matrix[r][c];
      const share = totals[r] > 0 ? count / totals[r] : 0;
      const [red, green, blue] = shareColour(share);
      const x = margin + c * cell;
      const y = margin + r * cell;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell - 1}" height="${cell - 1}" fill="${count === 0 ? '#151820' : `rgb(${red},${green},${blue})`}"><title>${escapeXml(names[r] ?? String(r))} → ${escapeXml(names[c] ?? String(c))}: ${count}</title></rect>`,
      );
      if (cell >= 9 && count > 0)
        parts.push(
          `<text x="${x + cell / 2}" y="${y + cell / 2}" text-anchor="middle" dominant-baseline="middle" fill="${share > 0.55 ? '#0e1014' : '#e8ebf0'}">${count}</text>`,
        );
    }
  for (let i = 0; i < n; i++) {
    if (n > 20 && i % 5 !== 0) continue;
    const text = escapeXml(label(names, i, margin));
    parts.push(
      `<text x="${margin - 4}" y="${margin + i * cell + cell / 2}" text-anchor="end" dominant-baseline="middle" fill="#8b93a1">${text}</text>`,
      `<text transform="translate(${margin + i * cell + cell / 2} ${margin - 4}) rotate(-90)" dominant-baseline="middle" fill="#8b93a1">${text}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}
