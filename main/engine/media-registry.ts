/**
 * Which files the host may serve (browser mode's /media/ID, Electron's glimpse-media://media/ID): only
 * playback proxies of opened videos and exports the engine wrote. Ids are derived from the path, so a
 * restarted engine gives a re-registered file the same URL.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.png': 'image/png',
  '.npz': 'application/octet-stream',
  '.json': 'application/json',
};

export interface MediaEntry {
  path: string;
  contentType: string;
}

export class MediaRegistry {
  private readonly entries = new Map<string, MediaEntry>();

  /** Registers `file` for serving and returns its id. */
  register(file: string): string {
    const absolute = path.resolve(file);
    const id = createHash('sha256').update(absolute).digest('hex').slice(0, 24) + path.extname(absolute);
    const contentType = CONTENT_TYPES[path.extname(absolute).toLowerCase()] ?? 'application/octet-stream';
    this.entries.set(id, { path: absolute, contentType });
    return id;
  }

  resolve(id: string): MediaEntry | null {
    return this.entries.get(id) ?? null;
  }
}
