// cozy-client's core behind an ES module of ours, imported by client.ts after the first paint: an import() of the
// CommonJS module itself would give its exports as `default` only (realtime-plugin.ts says the same of cozy-realtime).
export { default as CozyClient } from 'cozy-client/dist/CozyClient';
