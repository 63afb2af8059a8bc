/**
 * Import from another Cozy or Hearth (issue 17): paste the export link the other server mailed, check it
 * (POST /move/imports/precheck: 412 no finished export there or expired, 413 not enough space, 422 not an export link),
 * tick that this instance's data will be replaced, then POST /move/imports and go to the waiting page (/move/importing).
 */
import { useState } from 'preact/hooks';
import { Upload } from 'lucide-preact';
import { ErrorView, useBoot } from '../../shared/components';
import { api, statusOf } from './hooks';

const KNOWN = new Set([412, 413, 422]);

export function Import() {
  const { client, t } = useBoot();
  const [url, setUrl] = useState('');
  const [checked, setChecked] = useState<string | null>(null);
  const [replace, setReplace] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  const body = (u: string) => ({ data: { type: 'io.cozy.imports', attributes: { url: u } } });
  const fail = (err: unknown) => { setError(err); setBusy(false); };
  const precheck = async (e: Event) => {
    e.preventDefault();
    const u = url.trim();
    if (!u) { setMissing(true); return; }
    setMissing(false);
    setBusy(true);
    setError(null);
    setChecked(null);
    try {
      await api(client, 'POST', '/move/imports/precheck', body(u));
      setChecked(u);
      setBusy(false);
    } catch (err) {
      fail(err);
    }
  };
  const start = async (e: Event) => {
    e.preventDefault();
    if (!checked || !replace) return;
    setBusy(true);
    setError(null);
    try {
      // the stack answers 303 to its waiting page: not followed here (a JSON call), the tab goes there instead
      const stack = client.getStackClient();
      const res = await fetch(`${stack.uri}/move/imports`, {
        method: 'POST', redirect: 'manual', credentials: 'include', body: JSON.stringify(body(checked)),
        headers: { Authorization: stack.getAuthorizationHeader() ?? '', 'Content-Type': 'application/json', Accept: 'application/json' },
      });
      if (res.type !== 'opaqueredirect' && !res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
      location.assign(`${stack.uri}/move/importing`);
    } catch (err) {
      fail(err);
    }
  };
  const status = statusOf(error);
  return (
    <>
      <h1>{t('nav.import')}</h1>
      <p class="muted">{t('import.intro')}</p>
      <form class="card" onSubmit={precheck} aria-labelledby="im-h" noValidate>
        <div class="row"><Upload size={24} aria-hidden="true" /><h2 id="im-h" style={{ margin: 0 }}>{t('import.title')}</h2></div>
        <div class="field">
          <label for="im-url">{t('import.url')}</label>
          <input id="im-url" type="url" inputMode="url" value={url} maxLength={4096} placeholder="https://settings.example.mycozy.cloud/#/exports/…"
            aria-invalid={missing ? 'true' : undefined} aria-describedby={missing ? 'im-url-err' : 'im-url-hint'}
            onInput={(e) => { setUrl(e.currentTarget.value); setChecked(null); setReplace(false); }} />
          {missing ? <p class="error" id="im-url-err" role="alert">{t('import.url.missing')}</p> : <p class="small muted" id="im-url-hint">{t('import.url.hint')}</p>}
        </div>
        {error != null && (status !== undefined && KNOWN.has(status)
          ? <p class="error" role="alert">{t(`import.error.${status}`)}</p>
          : <ErrorView error={error} />)}
        {!checked && <button type="submit" class="primary" disabled={busy}>{t('import.check')}</button>}
      </form>
      {checked && (
        <form class="card" onSubmit={start} aria-labelledby="im-go">
          <h2 id="im-go">{t('import.ready')}</h2>
          <p>{t('import.warning')}</p>
          <label class="check"><input type="checkbox" checked={replace} onChange={(e) => setReplace(e.currentTarget.checked)} />{t('import.confirm')}</label>
          <div class="actions">
            <button type="submit" class="danger primary" disabled={busy || !replace}>{t('import.start')}</button>
          </div>
        </form>
      )}
    </>
  );
}
