// cozy-realtime's logger (@cozy/minilog, with microee), evaluated by a chunk of its own: see realtime-deps.ts.
export { default as minilog } from '@cozy/minilog';
