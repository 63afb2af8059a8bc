/** Profile: public name, locale, time zone (GET/PUT /settings/instance with its revision), the e-mail address (email.tsx), avatar. */
import { useContext, useMemo, useRef, useState } from 'preact/hooks';
import { useBoot, useToast, ErrorView, Loading } from '../../shared/components';
import { api, useLoad } from './hooks';
import { LocaleSetter } from './locale';
import { EmailCard } from './email';

interface InstanceDoc { id: string; type: string; attributes: { public_name?: string | null; email?: string | null; pending_email?: string; locale?: string; tz?: string | null }; meta: { rev: string } }

function zones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  return intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : ['UTC'];
}

export function Profile() {
  const { client, t } = useBoot();
  const doc = useLoad(() => api<{ data: InstanceDoc }>(client, 'GET', '/settings/instance').then((r) => r.data));
  return (
    <>
      <h1>{t('profile.title')}</h1>
      <Avatar />
      {doc.loading && <Loading />}
      {doc.error != null && <ErrorView error={doc.error} onRetry={doc.reload} />}
      {doc.data && <ProfileForm key={doc.data.meta.rev} doc={doc.data} onSaved={doc.set} onReload={doc.reload} />}
      {doc.data && <EmailCard email={doc.data.attributes.email ?? null} pending={doc.data.attributes.pending_email ?? null} onChanged={doc.reload} />}
    </>
  );
}

function ProfileForm({ doc, onSaved, onReload }: { doc: InstanceDoc; onSaved: (d: InstanceDoc) => void; onReload: () => void }) {
  const { client, t } = useBoot();
  const toast = useToast();
  const setLocale = useContext(LocaleSetter);
  const a = doc.attributes;
  const [name, setName] = useState(a.public_name ?? '');
  const [locale, setLoc] = useState(a.locale?.startsWith('fr') ? 'fr' : 'en');
  const [tz, setTz] = useState(a.tz ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [tzError, setTzError] = useState(false);
  const all = useMemo(zones, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (tz !== '' && !all.includes(tz)) { setTzError(true); return; }
    setTzError(false);
    setBusy(true);
    setError(null);
    try {
      const attributes = { public_name: name.trim() || null, locale, tz: tz || null };
      const r = await api<{ data: InstanceDoc }>(client, 'PUT', '/settings/instance', { data: { type: doc.type, id: doc.id, attributes, meta: { rev: doc.meta.rev } } });
      onSaved(r.data);
      const tNew = setLocale(locale === 'fr' ? 'fr' : 'en');
      toast.show(tNew('profile.saved'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="profile-h">
      <h2 id="profile-h">{t('profile.about')}</h2>
      {error != null && <ErrorView error={error} onRetry={onReload} />}
      <div class="field">
        <label for="p-name">{t('profile.name')}</label>
        <input id="p-name" value={name} maxLength={200} autoComplete="name" aria-describedby="p-name-hint" onInput={(e) => setName(e.currentTarget.value)} />
        <p class="hint" id="p-name-hint">{t('profile.name.hint')}</p>
      </div>
      <div class="field">
        <label for="p-locale">{t('profile.locale')}</label>
        <select id="p-locale" value={locale} onChange={(e) => setLoc(e.currentTarget.value)}>
          <option value="en">English</option>
          <option value="fr">Français</option>
        </select>
      </div>
      <div class="field">
        <label for="p-tz">{t('profile.tz')}</label>
        <input id="p-tz" list="p-tz-list" value={tz} autoComplete="off" aria-describedby="p-tz-hint" aria-invalid={tzError ? 'true' : undefined}
          placeholder="Europe/Paris" onInput={(e) => setTz(e.currentTarget.value)} />
        <datalist id="p-tz-list">{all.map((z) => <option key={z} value={z} />)}</datalist>
        <p class="hint" id="p-tz-hint">{t('profile.tz.hint')}</p>
        {tzError && <p class="error" role="alert">{t('profile.tz.invalid')}</p>}
      </div>
      <button type="submit" class="primary" disabled={busy}>{busy ? t('common.saving') : t('common.save')}</button>
    </form>
  );
}

function Avatar() {
  const { client, t, stackOrigin } = useBoot();
  const toast = useToast();
  const [v, setV] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const input = useRef<HTMLInputElement>(null);
  const upload = async (file: File | undefined) => {
    if (!file) return;
    setError(null);
    try {
      await client.getStackClient().fetch('PUT', '/settings/avatar', file, { headers: { 'Content-Type': file.type || 'application/octet-stream' } });
      setV((x) => x + 1);
      toast.show(t('avatar.saved'));
    } catch (err) {
      setError(err);
    } finally {
      if (input.current) input.current.value = '';
    }
  };
  const remove = async () => {
    setError(null);
    try {
      await client.getStackClient().fetch('DELETE', '/settings/avatar');
      setV((x) => x + 1);
      toast.show(t('avatar.removed'));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="card avatar-card" aria-labelledby="avatar-h">
      <img class="avatar" src={`${stackOrigin}/public/avatar?v=${v}`} alt={t('avatar.alt')} width={96} height={96} />
      <div>
        <h2 id="avatar-h">{t('avatar.title')}</h2>
        {error != null && <ErrorView error={error} />}
        <div class="row">
          <button type="button" onClick={() => input.current?.click()}>{t('avatar.upload')}</button>
          <input id="avatar-file" ref={input} hidden type="file" aria-label={t('avatar.upload')} accept="image/png,image/jpeg,image/webp,image/gif" onChange={(e) => void upload(e.currentTarget.files?.[0])} />
          <button type="button" class="ghost" onClick={() => void remove()}>{t('avatar.remove')}</button>
        </div>
        <p class="hint small muted">{t('avatar.hint')}</p>
      </div>
    </section>
  );
}
