/** Runs `fn` once the page is idle, at most `timeout` ms later (no requestIdleCallback: soon after); the returned function cancels it. */
export function whenIdle(fn: () => void, timeout = 3000): () => void {
  if ('requestIdleCallback' in window) {
    const id = window.requestIdleCallback(fn, { timeout });
    return () => window.cancelIdleCallback(id);
  }
  const id = setTimeout(fn, 200);
  return () => clearTimeout(id);
}
