// compat first: the runtime pieces an old Android WebView lacks, before Svelte's runtime.
import { markStarted } from './lib/compat';
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';

// index.html's start check found a WebView older than the oldest supported one and says so.
if ((window as { __jangkauTooOld?: boolean }).__jangkauTooOld) throw new Error('WebView too old for Jangkau');
const target = document.getElementById('app');
if (!target) throw new Error('#app is missing from index.html');
const app = mount(App, { target });
markStarted();
export default app;
