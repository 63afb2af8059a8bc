/**
 * The operations' dialogs: install and update (the permissions to accept, then the progress the stack streams:
 * installing / upgrading → ready, or the error explained) and uninstall (a confirmation, with a warning for the
 * built-in apps).
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { CheckCircle2, ExternalLink } from 'lucide-preact';
import { Dialog, ErrorView, useBoot, useToast } from '../../shared/components';
import { BUILTIN, OperationError, operate, uninstall, type Installed, type Kind, type Perm } from './api';
import { PermissionList } from './permission-list';

type Phase = { step: 'ask' } | { step: 'running'; state: string } | { step: 'done'; app: Installed | null } | { step: 'failed'; error: unknown };

/** Where an installed app is opened: a web app on its host, a konnector in Accounts. */
export function useOpenUrl(): (kind: Kind, slug: string, related?: string) => string {
  const { appUrl } = useBoot();
  return (kind, slug, related) => (kind === 'konnector' ? appUrl('accounts', `#/konnector/${encodeURIComponent(slug)}`) : related ?? appUrl(slug));
}

export function OpFailure({ error }: { error: unknown }): JSX.Element {
  const { t } = useBoot();
  if (error instanceof OperationError) {
    return (
      <div class="alert" role="alert">
        <div><strong>{t('op.failed', { detail: error.message.slice(0, 300) })}</strong><span>{t('op.failed.action')}</span></div>
      </div>
    );
  }
  return <ErrorView error={error} />;
}

export function OperationDialog(props: { op: 'install' | 'update'; kind: Kind; slug: string; name: string; version: string; perms: Perm[]; onClose: (changed: boolean) => void }): JSX.Element {
  const { client, t } = useBoot();
  const openUrl = useOpenUrl();
  const [phase, setPhase] = useState<Phase>({ step: 'ask' });
  const run = () => {
    setPhase({ step: 'running', state: props.op === 'install' ? 'installing' : 'upgrading' });
    operate(client, props.op, props.kind, props.slug, (app) => setPhase({ step: 'running', state: app.state }))
      .then((app) => setPhase({ step: 'done', app }), (error: unknown) => setPhase({ step: 'failed', error }));
  };
  const running = phase.step === 'running';
  const title = t(`${props.op}.title`, { name: props.name });
  const footer = phase.step === 'ask' ? (
    <>
      <button type="button" onClick={() => props.onClose(false)}>{t('common.cancel')}</button>
      <button type="button" class="primary" onClick={run}>{t(props.perms.length ? `${props.op}.accept` : `${props.op}.go`)}</button>
    </>
  ) : phase.step === 'done' ? (
    <>
      <button type="button" onClick={() => props.onClose(true)}>{t('common.close')}</button>
      <a class="button primary" href={openUrl(props.kind, props.slug, phase.app?.related)}><ExternalLink size={18} aria-hidden="true" />{t('app.open')}</a>
    </>
  ) : phase.step === 'failed' ? (
    <>
      <button type="button" onClick={() => props.onClose(true)}>{t('common.close')}</button>
      <button type="button" class="primary" onClick={run}>{t('common.retry')}</button>
    </>
  ) : null;
  return (
    <Dialog title={title} onClose={() => { if (!running) props.onClose(phase.step !== 'ask'); }} footer={footer}>
      {phase.step === 'ask' && (
        <>
          <p>{t(`${props.op}.intro`, { name: props.name, version: props.version })}</p>
          {props.perms.length > 0 ? <><h3>{t(`${props.op}.perms`)}</h3><PermissionList perms={props.perms} /></> : <p class="muted">{t(`${props.op}.noperms`)}</p>}
        </>
      )}
      {running && (
        <div class="progress" role="status">
          <p><strong>{t(`state.${phase.state}`)}</strong></p>
          <progress aria-label={t(`state.${phase.state}`)} />
        </div>
      )}
      {phase.step === 'done' && (
        <div class="alert ok" role="status"><CheckCircle2 size={22} aria-hidden="true" /><div><strong>{t(`${props.op}.done`, { name: props.name })}</strong><span>{t('state.ready')}</span></div></div>
      )}
      {phase.step === 'failed' && <OpFailure error={phase.error} />}
    </Dialog>
  );
}

export function UninstallDialog(props: { kind: Kind; slug: string; name: string; onClose: (changed: boolean) => void }): JSX.Element {
  const { client, t } = useBoot();
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const builtin = BUILTIN.includes(props.slug);
  const go = () => {
    setBusy(true);
    setError(null);
    uninstall(client, props.kind, props.slug).then(() => {
      toast.show(t('uninstall.done', { name: props.name }));
      props.onClose(true);
    }, (e: unknown) => { setBusy(false); setError(e); });
  };
  return (
    <Dialog title={t('uninstall.title', { name: props.name })} onClose={() => { if (!busy) props.onClose(false); }} footer={(
      <>
        <button type="button" onClick={() => props.onClose(false)} disabled={busy}>{t('common.cancel')}</button>
        <button type="button" class="danger" onClick={go} disabled={busy}>{t('uninstall.go')}</button>
      </>
    )}>
      <p>{t(props.kind === 'konnector' ? 'uninstall.konnector' : 'uninstall.intro', { name: props.name })}</p>
      {builtin && <div class="alert" role="note"><div><strong>{t('uninstall.builtin')}</strong><span>{t(props.slug === 'store' ? 'uninstall.builtin.store' : 'uninstall.builtin.action')}</span></div></div>}
      {error !== null && <ErrorView error={error} />}
    </Dialog>
  );
}
