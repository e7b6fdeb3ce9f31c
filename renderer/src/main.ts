/** Start-up: pick the API client, drop the token from the address bar, mount the app. */
import { mount } from 'svelte';
import App from './App.svelte';
import { connectApi, dropTokenFromAddress } from './api/index.ts';
import { AppState } from './lib/app-state.svelte.ts';
import './app.css';

dropTokenFromAddress(window);
let app: AppState | null = null;
const transport = connectApi(window, (state) => {
  if (!app) return;
  const reconnected = state.connected && !app.connection.connected;
  app.connection = state;
  // Job events sent while the socket was down are lost: read the job list again.
  if (reconnected) void app.refresh();
});
app = new AppState(transport.api, transport.bridge);
app.setRouteFromHash(window.location.hash);
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target, props: { app } });
