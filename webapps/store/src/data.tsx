/**
 * The Store's shared state: the registries' catalogue and the installed apps, loaded once and reloaded after each
 * operation and on every realtime change of io.cozy.apps / io.cozy.konnectors.
 */
import type { ComponentChildren, JSX } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { useBoot } from '../../shared/components';
import { realtimeOf } from '../../shared/realtime';
import { catalogue, installedApps, type Installed, type RegistryApp } from './api';

export interface StoreData {
  apps: RegistryApp[] | null;
  appsError: unknown;
  /** A registry could not be read: the catalogue lacks its apps. */
  partial: boolean;
  installed: Map<string, Installed> | null;
  installedError: unknown;
  reloadApps(): void;
  reloadInstalled(): void;
}

const Ctx = createContext<StoreData | null>(null);
export function useStore(): StoreData {
  const v = useContext(Ctx);
  if (!v) throw new Error('useStore outside <StoreProvider>');
  return v;
}

export function StoreProvider({ children }: { children: ComponentChildren }): JSX.Element {
  const { client } = useBoot();
  const [apps, setApps] = useState<RegistryApp[] | null>(null);
  const [appsError, setAppsError] = useState<unknown>(null);
  const [partial, setPartial] = useState(false);
  const [installed, setInstalled] = useState<Map<string, Installed> | null>(null);
  const [installedError, setInstalledError] = useState<unknown>(null);
  const reloadApps = useCallback(() => {
    setAppsError(null);
    catalogue(client).then((c) => { setApps(c.apps); setPartial(c.partial); }, (e: unknown) => { setApps(null); setAppsError(e); });
  }, [client]);
  const reloadInstalled = useCallback(() => {
    installedApps(client).then((m) => { setInstalled(m); setInstalledError(null); }, setInstalledError);
  }, [client]);
  useEffect(() => {
    reloadApps();
    reloadInstalled();
    const rt = realtimeOf(client);
    const on = () => reloadInstalled();
    const subs: Array<['created' | 'updated' | 'deleted', string]> = [];
    for (const doctype of ['io.cozy.apps', 'io.cozy.konnectors']) for (const ev of ['created', 'updated', 'deleted'] as const) subs.push([ev, doctype]);
    // realtime is a nicety: the Store reloads after its own operations anyway
    // (cozy-realtime's subscribe may answer a promise or nothing, and may throw)
    const safely = (f: () => unknown) => void Promise.resolve().then(f).catch(() => undefined);
    for (const [ev, doctype] of subs) safely(() => rt.subscribe(ev, doctype, on));
    // once the socket is ready (after the first read, and after a time offline): what changed meanwhile came as no event
    const offReady = rt.onReady(on);
    return () => {
      offReady();
      for (const [ev, doctype] of subs) safely(() => rt.unsubscribe(ev, doctype, on));
    };
  }, [client, reloadApps, reloadInstalled]);
  return <Ctx.Provider value={{ apps, appsError, partial, installed, installedError, reloadApps, reloadInstalled }}>{children}</Ctx.Provider>;
}
