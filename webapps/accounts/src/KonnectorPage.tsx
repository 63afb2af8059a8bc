/**
 * `#/konnector/<slug>`: a konnector's accounts. Add one (the generated form, then its trigger, then a first run),
 * run one now and watch it, read its past runs, change its credentials, delete it (with its trigger).
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ArrowLeft, KeyRound, Play, Plus, Trash2, UserRound } from 'lucide-preact';
import { Dialog, Empty, ErrorView, Loading, useBoot, useToast } from '../../shared/components';
import { formatDate } from '../../shared/i18n';
import { createAccount, deleteAccount, launch, triggerOf, updateAccount, type Account, type Konnector, type Trigger } from './api';
import { AccountForm } from './AccountForm';
import { useData } from './data';
import { KonnectorIcon } from './KonnectorList';
import { LiveRun, PastRuns, RunErrorView, StateBadge } from './Runs';

export const accountLabel = (a: Account): string => {
  const auth = a.auth ?? {};
  const byIdentifier = a.identifier ? auth[a.identifier] : undefined;
  const v = a.name || byIdentifier || auth.login || auth.email || auth.identifier;
  return typeof v === 'string' && v ? v : a._id.slice(0, 8);
};

export function KonnectorPage({ slug }: { slug: string }): JSX.Element {
  const { t, client, appUrl, locale } = useBoot();
  const toast = useToast();
  const data = useData();
  const [adding, setAdding] = useState(false);
  if (data.konnectors === null) return data.error ? <ErrorView error={data.error} onRetry={() => void data.reload()} /> : <Loading />;
  const k = data.konnectors.find((x) => x.slug === slug);
  if (!k) {
    return (
      <Empty title={t('konnector.missing', { slug })}>
        <p>{t('konnector.missing.action')}</p>
        <p class="row center"><a class="button" href="#/">{t('nav.back')}</a><a class="button primary" href={appUrl('store', '#/discover')}>{t('list.store')}</a></p>
      </Empty>
    );
  }
  const accounts = data.accounts.filter((a) => a.account_type === slug);

  const add = async (auth: Record<string, string>) => {
    const { account, trigger } = await createAccount(client, k, auth);
    setAdding(false);
    await data.reload();
    toast.show(t('account.added', { name: accountLabel(account) }));
    try {
      data.follow(await launch(client, trigger));
    } catch (e) {
      toast.error(e);
    }
  };

  return (
    <>
      <a class="back" href="#/"><ArrowLeft size={18} aria-hidden="true" />{t('nav.all')}</a>
      <div class="konnector-head">
        <KonnectorIcon slug={k.slug} size={56} />
        <div class="grow">
          <h1>{k.name}</h1>
          {k.locales?.[locale]?.short_description && <p class="muted">{k.locales[locale]?.short_description}</p>}
          {k.vendor_link && <p class="small"><a href={k.vendor_link} rel="noopener noreferrer" target="_blank">{t('konnector.vendor')}</a></p>}
        </div>
        <button type="button" class="primary" onClick={() => setAdding(true)}><Plus size={18} aria-hidden="true" />{t('account.add')}</button>
      </div>
      {data.error !== null && <ErrorView error={data.error} onRetry={() => void data.reload()} />}
      <h2>{t('accounts.title', { n: accounts.length })}</h2>
      {accounts.length === 0 ? (
        <Empty icon={<UserRound aria-hidden="true" />} title={t('accounts.none')}><p>{t('accounts.none.hint', { name: k.name })}</p></Empty>
      ) : (
        <ul class="accounts">{accounts.map((a) => <AccountCard key={a._id} k={k} account={a} trigger={triggerOf(data.triggers, a._id)} />)}</ul>
      )}
      {adding && <AccountForm konnector={k} mode="create" onSubmit={add} onClose={() => setAdding(false)} />}
    </>
  );
}

function AccountCard({ k, account, trigger }: { k: Konnector; account: Account; trigger?: Trigger }): JSX.Element {
  const { t, client, locale } = useBoot();
  const toast = useToast();
  const data = useData();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const label = accountLabel(account);
  // the latest run seen live for this account's trigger
  const live = trigger ? Object.values(data.live).filter((l) => l.job.trigger_id === trigger._id).pop() : undefined;
  const state = trigger?.current_state;
  const running = live ? live.job.state === 'queued' || live.job.state === 'running' : state?.status === 'queued' || state?.status === 'running';
  const headingId = `acc-${account._id}`;

  const run = async () => {
    if (!trigger) return;
    setBusy(true);
    setFailure(null);
    try {
      data.follow(await launch(client, trigger));
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(false);
    }
  };
  const save = async (auth: Record<string, string>) => {
    await updateAccount(client, account, auth);
    setEditing(false);
    await data.reload();
    toast.show(t('account.saved'));
  };
  const remove = async () => {
    setBusy(true);
    try {
      await deleteAccount(client, account);
      setDeleting(false);
      await data.reload();
      toast.show(t('account.deleted', { name: label }));
    } catch (e) {
      setDeleting(false);
      setFailure(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li class="card account" aria-labelledby={headingId}>
      <div class="account-head">
        <div class="grow">
          <h3 id={headingId} class="ellipsis">{label}</h3>
          <p class="muted small">
            {state?.last_execution ? t('account.last', { date: formatDate(state.last_execution, locale, true) }) : t('account.never')}
          </p>
        </div>
        <StateBadge state={live?.job.state ?? state?.status} />
      </div>
      {!trigger && <p class="alert info">{t('account.notrigger')}</p>}
      {failure !== null && <ErrorView error={failure} />}
      {live ? <LiveRun live={live} title={t('run.live', { name: label })} /> : state?.status === 'errored' && state.last_error ? <RunErrorView error={state.last_error} /> : null}
      <div class="row actions">
        <button type="button" class="primary" disabled={!trigger || running || busy} onClick={() => void run()}><Play size={18} aria-hidden="true" />{running ? t('account.running') : t('account.run')}</button>
        <button type="button" onClick={() => setEditing(true)}><KeyRound size={18} aria-hidden="true" />{t('account.edit')}</button>
        <button type="button" class="danger" disabled={busy} onClick={() => setDeleting(true)}><Trash2 size={18} aria-hidden="true" />{t('account.delete')}</button>
      </div>
      {trigger && <PastRuns triggerId={trigger._id} ended={data.ended} />}
      {editing && <AccountForm konnector={k} mode="edit" stored={account.auth} onSubmit={save} onClose={() => setEditing(false)} />}
      {deleting && (
        <Dialog title={t('delete.title', { name: label })} onClose={() => setDeleting(false)} footer={<>
          <button type="button" onClick={() => setDeleting(false)}>{t('common.cancel')}</button>
          <button type="button" class="danger primary" disabled={busy} onClick={() => void remove()}>{t('delete.confirm')}</button>
        </>}>
          <p>{t('delete.body', { name: k.name })}</p>
          <p class="muted small">{t('delete.files')}</p>
        </Dialog>
      )}
    </li>
  );
}
