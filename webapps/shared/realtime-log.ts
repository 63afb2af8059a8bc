// cozy-realtime's logger (@cozy/minilog, with microee), evaluated by a chunk of its own, a task before cozy-realtime's modules (realtime.ts).
export { default as minilog } from '@cozy/minilog';
