/**
 * Sharing a file or a folder by a read-only link (an io.cozy.permissions document of type share, GET on this one
 * item, as cozy-stack makes them), with an optional password and expiry day; the link is copied to the clipboard
 * (or selected for a manual copy where the clipboard is refused). The item's links are listed, each revocable.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Copy, Link2, Trash2 } from 'lucide-preact';
import { Dialog, ErrorView, Loading, useBoot, useToast } from '../../../shared/components';
import { formatDate } from '../../../shared/i18n';
import type { ShareProps } from '../types';
import { allShareLinks, createShareLink, publicUrl, revokeShareLink, type ShareLink } from './api';

/** Copies `text`; where the Clipboard API is refused, selects it in `input` for Ctrl+C. True when copied. */
export async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    input?.focus();
    input?.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

export function LinkRow({ link, name, onRevoked }: { link: ShareLink; name?: string; onRevoked(): void }): JSX.Element {
  const { client, locale, appUrl } = useBoot();
  const { t } = useBoot();
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const url = publicUrl(appUrl, link.code);
  const expired = link.expiresAt !== undefined && Date.parse(link.expiresAt) <= Date.now();
  const revoke = async () => {
    setBusy(true);
    try {
      await revokeShareLink(client, link.id);
      toast.show(t('share.revoked'));
      onRevoked();
    } catch (e) {
      toast.error(e);
      setBusy(false);
    }
  };
  const copy = async () => {
    if (await copyText(url, null)) toast.show(t('share.copied'));
    else toast.show(`${url} — ${t('share.copy.manual')}`, { ms: 15000 });
  };
  return (
    <li>
      <Link2 size={20} aria-hidden="true" />
      <div class="grow">
        {name !== undefined && <div class="ellipsis"><a href={url} target="_blank" rel="noopener" aria-label={t('links.open', { name })}>{name}</a></div>}
        <div class="ellipsis small"><code>{link.code}</code></div>
        <div class="meta">
          {link.madeBy && <span>{t('share.madeBy', { app: link.madeBy })}</span>}
          {link.password && <span class="badge">{t('share.protected')}</span>}
          {expired ? <span class="badge error">{t('share.expired')}</span> : <span>{link.expiresAt ? t('share.expiresOn', { date: formatDate(link.expiresAt, locale) }) : t('share.never')}</span>}
        </div>
      </div>
      <button type="button" class="icon-button" aria-label={t('share.copy')} title={t('share.copy')} onClick={() => void copy()}><Copy size={18} aria-hidden="true" /></button>
      <button type="button" class="danger" disabled={busy} aria-label={t('share.revoke.label', { code: link.code })} onClick={() => void revoke()}><Trash2 size={18} aria-hidden="true" />{t('share.revoke')}</button>
    </li>
  );
}

/** The day after today as YYYY-MM-DD (the earliest expiry one may choose). */
const tomorrow = (): string => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

export function ShareDialog(props: ShareProps): JSX.Element {
  const { client, appUrl } = useBoot();
  const { t } = useBoot();
  const toast = useToast();
  const [links, setLinks] = useState<ShareLink[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const [password, setPassword] = useState('');
  const [expires, setExpires] = useState('');
  const [expiresError, setExpiresError] = useState('');
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const [input, setInput] = useState<HTMLInputElement | null>(null);

  useEffect(() => {
    let live = true;
    allShareLinks(client).then((all) => { if (live) setLinks(all.filter((l) => l.fileIds.includes(props.file._id))); }, (e: unknown) => { if (live) setError(e); });
    return () => { live = false; };
  }, [props.file._id, reload]);

  const create = async (e: Event) => {
    e.preventDefault();
    if (expires && expires < tomorrow()) { setExpiresError(t('share.past')); return; }
    setExpiresError('');
    setBusy(true);
    try {
      // the link works until the end of the chosen day, in the person's time zone
      const expiresAt = expires ? new Date(`${expires}T23:59:59`).toISOString() : undefined;
      const link = await createShareLink(client, props.file._id, { ...(password ? { password } : {}), ...(expiresAt ? { expiresAt } : {}) });
      const url = publicUrl(appUrl, link.code);
      setCreated(url);
      setPassword('');
      setExpires('');
      setReload((n) => n + 1);
      toast.show((await copyText(url, null)) ? `${t('share.created')} ${t('share.copied')}` : t('share.created'));
    } catch (err) {
      toast.error(err);
    } finally {
      setBusy(false);
    }
  };
  const copyCreated = async () => {
    if (!created) return;
    if (await copyText(created, input)) toast.show(t('share.copied'));
    else toast.show(t('share.copy.manual'));
  };

  return (
    <Dialog title={t('share.title', { name: props.file.name })} onClose={props.onClose} wide>
      <p>{t('share.intro')}</p>
      {created && (
        <div class="field">
          <label for="share-url">{t('share.url')}</label>
          <div class="share-url">
            <input id="share-url" ref={setInput} readOnly value={created} onFocus={(e) => (e.target as HTMLInputElement).select()} />
            <button type="button" onClick={() => void copyCreated()}><Copy size={18} aria-hidden="true" />{t('share.copy')}</button>
          </div>
        </div>
      )}
      <form onSubmit={(e) => void create(e)} class="card" noValidate>
        <div class="field">
          <label for="share-password">{t('share.password')}</label>
          <input id="share-password" type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} aria-describedby="share-password-hint" />
          <div class="hint" id="share-password-hint">{t('share.password.hint')}</div>
        </div>
        <div class="field">
          <label for="share-expires">{t('share.expires')}</label>
          <input id="share-expires" type="date" min={tomorrow()} value={expires} aria-invalid={expiresError ? 'true' : undefined}
            aria-describedby={expiresError ? 'share-expires-error' : 'share-expires-hint'} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
          {expiresError ? <div class="error" id="share-expires-error" role="alert">{expiresError}</div> : <div class="hint" id="share-expires-hint">{t('share.expires.hint')}</div>}
        </div>
        <button type="submit" class="primary" disabled={busy}><Link2 size={18} aria-hidden="true" />{t('share.create')}</button>
      </form>
      <h3>{t('share.links')}</h3>
      {error ? <ErrorView error={error} onRetry={() => { setError(null); setReload((n) => n + 1); }} />
        : links === null ? <Loading />
        : links.length === 0 ? <p class="muted">{t('share.nolinks')}</p>
        : <ul class="list links-list" aria-label={t('share.links')}>{links.map((l) => <LinkRow key={l.id} link={l} onRevoked={() => setReload((n) => n + 1)} />)}</ul>}
    </Dialog>
  );
}
