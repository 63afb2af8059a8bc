/**
 * The Store's intent page (`/intents?intent=<id>`): cozy's `INSTALL` intent on io.cozy.apps, which another app starts
 * with cozy-interapp (`intents.create('INSTALL', 'io.cozy.apps', {slug})`) to have an app installed. It shows the app
 * and its permissions, installs it with the stack's progress when the owner accepts, and answers the app with the
 * installed app's document (already installed: at once); Cancel answers a cancellation.
 */
import '../../shared/ui.css';
import './app.css';
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import Intents, { type IntentService } from 'cozy-interapp/dist/intents';
import { Loading, useBoot } from '../../shared/components';
import { mount } from '../../shared/mount';
import { application, installedApp, operate, type Installed, type RegistryApp } from './api';
import { en, fr } from './locales';
import { nameOf, localized } from './model';
import { OpFailure } from './ops';
import { AppIcon } from './parts';
import { PermissionList } from './permission-list';

type Phase = { step: 'loading' } | { step: 'ask'; app: RegistryApp } | { step: 'running'; app: RegistryApp; state: string } | { step: 'failed'; error: unknown; app?: RegistryApp };

function IntentApp(): JSX.Element {
  const { client, t, locale } = useBoot();
  const [service, setService] = useState<IntentService | null>(null);
  const [phase, setPhase] = useState<Phase>({ step: 'loading' });
  useEffect(() => {
    (async () => {
      const s = await new Intents({ client: await client.load() }).createService();
      setService(s);
      const slug = String(s.getData()?.slug ?? '');
      if (!slug) throw new Error(t('intent.noslug'));
      const app = await application(client, slug);
      const mine = await installedApp(client, app.type, slug);
      if (mine && (mine.state === 'ready' || mine.state === 'installed')) return s.terminate(mine);
      setPhase({ step: 'ask', app });
    })().catch((error: unknown) => setPhase({ step: 'failed', error }));
  }, [client, t]);
  if (phase.step === 'loading') return <main id="main" class="content"><Loading /></main>;
  const app = phase.app;
  const m = app?.latest_version?.manifest;
  const name = app ? nameOf(m, app.slug, locale) : '';
  const install = (a: RegistryApp) => {
    setPhase({ step: 'running', app: a, state: 'installing' });
    operate(client, 'install', a.type, a.slug, (doc) => setPhase({ step: 'running', app: a, state: doc.state }))
      .then((doc: Installed | null) => service?.terminate(doc), (error: unknown) => setPhase({ step: 'failed', error, app: a }));
  };
  return (
    <main id="main" class="content intent">
      {app && (
        <header class="app-head">
          <AppIcon slug={app.slug} version={app.latest_version?.version} size={64} />
          <div class="app-head-text"><h1>{t('install.title', { name })}</h1><p class="muted">{localized(m, 'short_description', locale)}</p></div>
        </header>
      )}
      {phase.step === 'ask' && (
        <>
          {Object.keys(m?.permissions ?? {}).length ? <><h2>{t('install.perms')}</h2><PermissionList perms={Object.values(m?.permissions ?? {})} /></> : <p>{t('install.noperms')}</p>}
          <p class="row intent-actions">
            <button type="button" onClick={() => service?.cancel()}>{t('common.cancel')}</button>
            <button type="button" class="primary" onClick={() => install(phase.app)}>{t('install.accept')}</button>
          </p>
        </>
      )}
      {phase.step === 'running' && <div class="progress" role="status"><p><strong>{t(`state.${phase.state}`)}</strong></p><progress aria-label={t(`state.${phase.state}`)} /></div>}
      {phase.step === 'failed' && (
        <>
          <OpFailure error={phase.error} />
          <p class="row intent-actions">
            <button type="button" onClick={() => service?.cancel()} disabled={!service}>{t('common.close')}</button>
            {app && <button type="button" class="primary" onClick={() => install(app)}>{t('common.retry')}</button>}
          </p>
        </>
      )}
    </main>
  );
}
mount(IntentApp, { en, fr });
