/**
 * A component whose code is a chunk loaded on first render (`lazy(() => import('./x').then((m) => m.X))`): what the
 * first paint does not need (dialogs, views) stays out of the page's first script. `Loading` shows while it comes, and
 * a failed load says so with a retry. `prefetch` loads it ahead, once the page is idle, so that it is there when used.
 */
import type { ComponentType, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorView, Loading } from './components';
import { whenIdle } from './idle';

export interface Lazy<P> {
  (props: P): JSX.Element;
  prefetch(): void;
}

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): Lazy<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;
  const start = (): Promise<ComponentType<P>> => {
    pending ??= load().then((c) => (loaded = c), (e: unknown) => { pending = null; throw e; });
    return pending;
  };
  function LazyComponent(props: P): JSX.Element {
    const [, setReady] = useState(loaded !== null);
    const [error, setError] = useState<unknown>(null);
    const [attempt, setAttempt] = useState(0);
    useEffect(() => {
      // loaded between this render (which showed Loading) and its effect (by another instance, or a prefetch):
      // render again, or Loading would stay
      if (loaded) {
        setReady(true);
        return undefined;
      }
      let live = true;
      start().then(() => { if (live) setReady(true); }, (e: unknown) => { if (live) setError(e); });
      return () => { live = false; };
    }, [attempt]);
    if (loaded) { const C = loaded; return <C {...props} />; }
    if (error !== null) return <ErrorView error={error} onRetry={() => { setError(null); setAttempt((n) => n + 1); }} />;
    return <Loading />;
  }
  LazyComponent.prefetch = (): void => {
    whenIdle(() => void start().catch(() => undefined));
  };
  return LazyComponent;
}
