import '../../shared/ui.css';
import './app.css';
import type { ComponentType } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { Bell, Download, HardDrive, KeyRound, Laptop, Monitor, Palette, ScrollText, ShieldCheck, Truck, Upload, User } from 'lucide-preact';
import { mount } from '../../shared/mount';
import { AppBar, BootContext, useBoot } from '../../shared/components';
import { ERROR_STRINGS } from '../../shared/errors';
import { makeT, type T } from '../../shared/i18n';
import { en, fr } from './locales';
import { lazy } from '../../shared/lazy';
import { Profile } from './profile';
import { LocaleSetter } from './locale';
import { WarningsBanner } from '../../shared/warnings';

// the first section is in the page's script; the others are chunks loaded when opened (fetched ahead once idle)
const Appearance = lazy(() => import('./appearance').then((m) => m.Appearance));
const Security = lazy(() => import('./security').then((m) => m.Security));
const Sessions = lazy(() => import('./sessions').then((m) => m.Sessions));
const Devices = lazy(() => import('./sessions').then((m) => m.Devices));
const AppPasswords = lazy(() => import('./passwords').then((m) => m.AppPasswords));
const Storage = lazy(() => import('./storage').then((m) => m.Storage));
const Export = lazy(() => import('./export').then((m) => m.Export));
const ExportDownload = lazy(() => import('./export').then((m) => m.ExportDownload));
const Notifications = lazy(() => import('./notifications').then((m) => m.Notifications));
const Import = lazy(() => import('./import').then((m) => m.Import));
const Events = lazy(() => import('./events').then((m) => m.Events));
const Move = lazy(() => import('./move').then((m) => m.Move));

const SECTIONS: { id: string; icon: typeof User; view: ComponentType }[] = [
  { id: 'profile', icon: User, view: Profile },
  { id: 'appearance', icon: Palette, view: Appearance },
  { id: 'security', icon: ShieldCheck, view: Security },
  { id: 'sessions', icon: Monitor, view: Sessions },
  { id: 'devices', icon: Laptop, view: Devices },
  { id: 'app-passwords', icon: KeyRound, view: AppPasswords },
  { id: 'storage', icon: HardDrive, view: Storage },
  { id: 'notifications', icon: Bell, view: Notifications },
  { id: 'export', icon: Download, view: Export },
  { id: 'import', icon: Upload, view: Import },
  { id: 'move', icon: Truck, view: Move },
  { id: 'events', icon: ScrollText, view: Events },
];

const DICTS = { en: { ...ERROR_STRINGS.en, ...en }, fr: { ...ERROR_STRINGS.fr, ...fr } };

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function Shell({ setLocale }: { setLocale: (l: 'en' | 'fr') => T }) {
  const { t } = useBoot();
  const hash = useHash();
  // #/exports/<MAC>: the export the mail links to, under the Export section
  const mac = /^#\/exports\/([A-Za-z0-9_=-]+)$/.exec(hash)?.[1];
  const current = mac ? SECTIONS.find((s) => s.id === 'export')! : SECTIONS.find((s) => hash === `#/${s.id}`) ?? SECTIONS[0]!;
  const View = current.view;
  useEffect(() => { document.title = `${t(`nav.${current.id}`)} · ${t('app.name')}`; }, [current.id, t]);
  return (
    <>
      <AppBar title={t('app.name')} />
      <div class="layout">
        <nav class="sidenav" aria-label={t('nav.label')}>
          {SECTIONS.map((s) => (
            <a key={s.id} href={`#/${s.id}`} aria-current={s === current ? 'page' : undefined}><s.icon size={20} aria-hidden="true" />{t(`nav.${s.id}`)}</a>
          ))}
        </nav>
        <main id="main" class="content settings" tabIndex={-1}>
          <WarningsBanner focusAfter="#main" />
          <LocaleSetter.Provider value={setLocale}>{mac ? <ExportDownload mac={mac} /> : <View />}</LocaleSetter.Provider>
        </main>
      </div>
    </>
  );
}

/** The app, re-rendered in the new language when the profile's locale changes (no reload). */
function App() {
  const b = useBoot();
  const [locale, setLocale] = useState(b.locale);
  const value = useMemo(() => (locale === b.locale ? b : { ...b, locale, t: makeT(DICTS[locale], DICTS.en) }), [b, locale]);
  const switchTo = useCallback((l: 'en' | 'fr') => { setLocale(l); return makeT(DICTS[l], DICTS.en); }, []);
  useEffect(() => { document.documentElement.lang = locale; }, [locale]);
  useEffect(() => { for (const view of [Appearance, Security, Sessions, AppPasswords, Storage, Notifications, Events]) view.prefetch(); }, []);
  return <BootContext.Provider value={value}><Shell setLocale={switchTo} /></BootContext.Provider>;
}

mount(App, { en, fr });
