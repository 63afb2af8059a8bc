// cozy-realtime's CozyRealtime behind an ES module of ours: an import() of the CommonJS package itself would give its
// exports as `default` only (esbuild's code splitting follows Node there), this one gives the named export.
export { default as CozyRealtime } from 'cozy-realtime/dist/CozyRealtime';
