// Loads h5wasm before tsx's loader is registered: tsx would otherwise re-transform its 4 MB Emscripten module
// with source maps on every start (3–10 s here, against 0.3 s untouched). Later imports reuse this instance.
import 'h5wasm/node';
import { register } from 'tsx/esm/api';

register();
