/**
 * What the Electron preload exposes to the renderer as `window.glimpse` (types only; the renderer imports
 * this file with `import type`). In browser mode the same calls go over the WebSocket instead.
 *
 * `call` resolves with the method's result or rejects with a plain `GlimpseErrorData` object
 * `{ code, message, file? }` (not an Error: Error objects lose their fields crossing the context bridge).
 * Arguments are shape-checked in the preload and validated by the shared schemas in the engine host, so a
 * malformed call rejects with code 'bad-request'.
 *
 * App commands (menus, native dialogs) reach the renderer through `onAppCommand`:
 * - `{ type: 'navigate', hash }`: show that view, e.g. '#/inspect', '#/evaluate', '#/train' (views a later
 *   issue builds are routed too; the renderer shows a placeholder for them);
 * - `{ type: 'open', role, path }`: the user picked a file or folder in a native dialog (File ▸ Open Video…,
 *   Open Model…, Open Dataset…) or in File ▸ Open Recent; open it as that role;
 * - `{ type: 'command', name }`: 'export' (File ▸ Export…), 'shortcuts' (Help ▸ Keyboard Shortcuts),
 *   'about' (Help ▸ About Glimpse). 'open-video' | 'open-model' | 'open-dataset' are handled in the main
 *   process with a native dialog and arrive as `open`; the renderer may use the same names for its own
 *   in-app pickers (browser mode).
 *
 * Drag-and-drop: the renderer reads a dropped `File`'s path with `pathForFile(file)` (Electron's
 * webUtils.getPathForFile; empty string for files not from disk).
 */
import type { ApiMethod, EngineEvent, GlimpseApi, GlimpseErrorData } from '../engine/api.ts';

export type OpenRole = 'video' | 'model' | 'dataset';

export type AppCommandName = 'open-video' | 'open-model' | 'open-dataset' | 'export' | 'shortcuts' | 'about';

export type AppCommand =
  | { type: 'navigate'; hash: string }
  | { type: 'command'; name: AppCommandName }
  | { type: 'open'; role: OpenRole; path: string };

export type BridgeResult<M extends ApiMethod> = Awaited<ReturnType<GlimpseApi[M]>>;

export interface GlimpseBridge {
  call<M extends ApiMethod>(method: M, args: Parameters<GlimpseApi[M]>): Promise<BridgeResult<M>>;
  /** Engine events (job progress); returns the unsubscribe function. */
  subscribe(callback: (event: EngineEvent) => void): () => void;
  onAppCommand(callback: (command: AppCommand) => void): () => void;
  pathForFile(file: File): string;
}

/** What `call` rejects with. */
export type BridgeError = GlimpseErrorData;
