/**
 * Home, the page a person lands on after login: a greeting on the instance's wallpaper with the search box, the app
 * launcher, the konnectors with their state, the latest files, and the notifications behind the bell of the app bar.
 * Each part loads on its own and they are shown together (no part pushes another down as it comes): one failing shows
 * its message and a retry, the others stay usable.
 */
import '../../shared/ui.css';
import './app.css';
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { mount } from '../../shared/mount';
import { useFirstRequest } from '../../shared/first-request';
import { compareNames, prepareFormats } from '../../shared/i18n';
import { realtimeOf } from '../../shared/realtime';
import { useCustomWallpaper } from './wallpaper';
import { AppBar, ErrorView, Loading, useBoot } from '../../shared/components';
import { en, fr } from './locales';
import { appName, listApps, listKonnectorTriggers, publicName, recentFiles, type AppInfo, type FileInfo, type TriggerInfo } from './data';
import { Launcher } from './Launcher';
import { Services } from './Services';
import { Recent } from './Recent';
import { Search } from './Search';
import { BellButton, NotificationsDialog, useNotifications } from './Notifications';
import { WarningsBanner } from '../../shared/warnings';

interface Loaded<T> { data: T | null; error: unknown; reload: () => void }

/** Runs `load` now (the first request made by the first render: first-request.ts) and on reload(), keeping its result or its error. */
function useLoad<T>(load: () => Promise<T>): Loaded<T> {
  const [s, setS] = useState<{ data: T | null; error: unknown }>({ data: null, error: null });
  const [n, setN] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  const request = useFirstRequest(() => latest.current());
  useEffect(() => {
    let stale = false;
    request().then((data) => { if (!stale) setS({ data, error: null }); }, (error: unknown) => { if (!stale) setS((x) => ({ ...x, error })); });
    return () => { stale = true; };
  }, [n]);
  const reload = useCallback(() => { setS((x) => ({ ...x, error: null })); setN((i) => i + 1); }, []);
  return { ...s, reload };
}

/** True from the task after the one in which `ready` first was: a part drawn then does not lengthen the first draw. */
function useNextTask(ready: boolean): boolean {
  const [next, setNext] = useState(false);
  useEffect(() => {
    if (!ready || next) return undefined;
    const timer = setTimeout(() => setNext(true), 0);
    return () => clearTimeout(timer);
  }, [ready, next]);
  return next;
}

function Section({ id, title, children, aside }: { id: string; title: string; children: ComponentChildren; aside?: ComponentChildren }): JSX.Element {
  return (
    <section class="home-section" aria-labelledby={`${id}-title`} id={id}>
      <div class="section-head"><h2 id={`${id}-title`}>{title}</h2>{aside}</div>
      {children}
    </section>
  );
}

function Part<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => JSX.Element }): JSX.Element {
  if (loaded.error) return <ErrorView error={loaded.error} onRetry={loaded.reload} />;
  if (loaded.data === null) return <Loading />;
  return children(loaded.data);
}

/**
 * Calls `reload` after a burst of realtime events on `doctype` (created, updated, deleted), and once the socket is ready
 * (subscribed after the first read, or back after a time offline: what changed meanwhile came as no event).
 */
function useLive(doctype: string, reload: () => void): void {
  const { client } = useBoot();
  useEffect(() => {
    const rt = realtimeOf(client);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const changed = () => { clearTimeout(timer); timer = setTimeout(reload, 800); };
    const events = ['created', 'updated', 'deleted'] as const;
    for (const e of events) void rt.subscribe(e, doctype, changed);
    const offReady = rt.onReady(changed);
    return () => {
      clearTimeout(timer);
      offReady();
      for (const e of events) void rt.unsubscribe(e, doctype, changed);
    };
  }, [client, doctype, reload]);
}

function greetingKey(hour: number): string {
  if (hour < 12) return 'home.greeting.morning';
  if (hour < 18) return 'home.greeting.afternoon';
  return 'home.greeting.evening';
}

const WALLPAPER = document.querySelector<HTMLElement>('[role=application]')?.dataset.wallpaper ?? '';

function App(): JSX.Element {
  const { client, t, locale } = useBoot();
  const apps = useLoad(() => listApps(client, 'io.cozy.apps'));
  const konnectors = useLoad(() => listApps(client, 'io.cozy.konnectors'));
  const triggers = useLoad(() => listKonnectorTriggers(client));
  const recent = useLoad(() => recentFiles(client));
  const name = useLoad(() => publicName(client).catch(() => ''));
  const notifications = useNotifications();
  const [panel, setPanel] = useState(false);

  // the konnectors' state is read again every few seconds while one runs, every minute otherwise
  const busy = (triggers.data ?? []).some((x) => x.status === 'running' || x.status === 'queued');
  useEffect(() => {
    const timer = setInterval(triggers.reload, busy ? 4000 : 60_000);
    return () => clearInterval(timer);
  }, [busy, triggers.reload]);
  // changes made anywhere (Drive, a konnector, the Store, a sync client) refresh the part that shows them
  useLive('io.cozy.files', recent.reload);
  useLive('io.cozy.apps', apps.reload);
  useLive('io.cozy.konnectors', konnectors.reload);

  const webapps = useMemo(() => (apps.data ?? []).filter((a) => a.slug !== 'home' && a.state !== 'installing' && a.state !== 'errored').sort((a, b) => compareNames(locale)(appName(a, locale), appName(b, locale))), [apps.data, locale]);
  const names = useCallback((slug: string) => {
    const a = [...(apps.data ?? []), ...(konnectors.data ?? [])].find((x) => x.slug === slug);
    return a ? appName(a, locale) : slug;
  }, [apps.data, konnectors.data, locale]);
  const owner = name.data ?? '';
  const wallpaper = useCustomWallpaper(client) ?? WALLPAPER;
  const heroStyle = wallpaper ? `--wallpaper: url("${wallpaper.replace(/["\\]/g, '')}")` : undefined;
  const loading = [apps, recent, konnectors, triggers].some((l) => l.data === null && !l.error);
  // the konnectors (below the apps and the files on a phone, beside them on a desktop) are drawn a task later
  const sideDrawn = useNextTask(!loading);

  return (
    <>
      <AppBar><BellButton model={notifications} onOpen={() => setPanel(true)} /></AppBar>
      <main id="main" class="home">
        <WarningsBanner focusAfter="#main" />
        <div class={`hero${wallpaper ? ' with-wallpaper' : ''}`} style={heroStyle}>
          <h1>{owner ? t(greetingKey(new Date().getHours()), { name: owner }) : t('home.greeting.anonymous')}</h1>
          <Search apps={webapps} />
        </div>
        {/* the parts appear together, once each has its data or its error: one comes in without pushing the others down */}
        {loading ? <Loading /> : <div class="home-grid">
          <div class="home-main">
            <Section id="apps" title={t('home.apps')}><Part loaded={apps}>{() => <Launcher apps={webapps} />}</Part></Section>
            <Section id="recent" title={t('home.recent')}><Part loaded={recent}>{(files: FileInfo[]) => <Recent files={files} />}</Part></Section>
          </div>
          <div class="home-side">
            <Section id="services" title={t('home.services')}>
              {sideDrawn && <Part loaded={konnectors}>{(ks: AppInfo[]) => (
                triggers.error ? <ErrorView error={triggers.error} onRetry={triggers.reload} />
                  : triggers.data === null ? <Loading /> : <Services konnectors={ks} triggers={triggers.data as TriggerInfo[]} />
              )}</Part>}
            </Section>
          </div>
        </div>}
      </main>
      {panel && <NotificationsDialog model={notifications} names={names} onClose={() => setPanel(false)} />}
    </>
  );
}

// the first render in the bundle's own task, before the first paint (which waiting a task put about 0.3 s later in
// Lighthouse's LCP); then the formatters and the collator the parts use, made while their data is on its way (each in
// a task of its own, after the first paint)
const { locale } = mount(App, { en, fr });
prepareFormats(locale, { date: true, time: true, sort: true });
