/**
 * The owner's e-mail address, changed as cozy-stack does it: the new address and the passphrase (POST /settings/email),
 * then a link mailed to the new address confirms it. While a change waits (`pending_email`), the link can be sent again
 * (POST /settings/email/resend) or the change cancelled (DELETE /settings/email).
 */
import { useRef, useState } from 'preact/hooks';
import { ErrorView, useBoot, useToast } from '../../shared/components';
import { api, derived, statusOf } from './hooks';

// the stack's check (src/settings/validate.ts EMAIL_RE), so that a typo is said before the passphrase is asked
const EMAIL = /^(?!\.)(?!.*\.\.)[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** The stack's refusal of the passphrase: 400 "Invalid passphrase" (cozy-stack's words). */
function wrongPassphrase(e: unknown): boolean {
  const errors = (e as { reason?: { errors?: Array<{ detail?: string }> } } | null)?.reason?.errors;
  return statusOf(e) === 400 && errors?.[0]?.detail === 'Invalid passphrase';
}

export function EmailCard({ email, pending, onChanged }: { email: string | null; pending: string | null; onChanged: () => void }) {
  const { client, t } = useBoot();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const close = () => {
    setOpen(false);
    setTimeout(() => opener.current?.focus(), 0);
  };
  const call = async (method: string, path: string, done: string) => {
    setError(null);
    try {
      await api(client, method, path);
      toast.show(done);
      onChanged();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="card" aria-labelledby="email-h">
      <h2 id="email-h">{t('email.title')}</h2>
      <p>{email ? t('email.current', { email }) : t('email.none')}</p>
      <p class="hint small muted">{t('email.hint')}</p>
      {error != null && <ErrorView error={error} />}
      {pending && (
        <div class="pending" role="status">
          <p>{t('email.pending', { email: pending })}</p>
          <div class="row">
            <button type="button" onClick={() => void call('POST', '/settings/email/resend', t('email.resent', { email: pending }))}>{t('email.resend')}</button>
            <button type="button" class="ghost" onClick={() => void call('DELETE', '/settings/email', t('email.cancelled'))}>{t('email.cancel')}</button>
          </div>
        </div>
      )}
      {open
        ? <EmailForm onClose={close} onSent={(to) => { close(); toast.show(t('email.sent', { email: to })); onChanged(); }} />
        : <button type="button" ref={opener} onClick={() => setOpen(true)}>{t('email.change')}</button>}
    </section>
  );
}

function EmailForm({ onClose, onSent }: { onClose: () => void; onSent: (to: string) => void }) {
  const { client, t } = useBoot();
  const [address, setAddress] = useState('');
  const [pass, setPass] = useState('');
  const [problem, setProblem] = useState<{ field: 'address' | 'pass'; text: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const to = address.trim();
    if (!EMAIL.test(to)) { setProblem({ field: 'address', text: t('email.invalid') }); return; }
    if (!pass) { setProblem({ field: 'pass', text: t('pass.current.missing') }); return; }
    setProblem(null);
    setBusy(true);
    try {
      await api(client, 'POST', '/settings/email', { email: to, passphrase: (await derived(client, pass)).value });
      onSent(to);
    } catch (err) {
      if (wrongPassphrase(err)) setProblem({ field: 'pass', text: t('pass.wrong') });
      else setError(err);
      setBusy(false);
    }
  };
  const invalid = (field: 'address' | 'pass') => (problem?.field === field ? { 'aria-invalid': 'true' as const, 'aria-describedby': `email-${field}-err` } : {});
  return (
    <form onSubmit={submit} noValidate aria-label={t('email.change')}>
      {error != null && <ErrorView error={error} />}
      <div class="field">
        <label for="email-address">{t('email.new')}</label>
        <input id="email-address" type="email" autoComplete="email" autoFocus value={address} maxLength={254} placeholder="alice@example.org"
          {...invalid('address')} onInput={(e) => setAddress(e.currentTarget.value)} />
        {problem?.field === 'address' && <p class="error" id="email-address-err" role="alert">{problem.text}</p>}
      </div>
      <div class="field">
        <label for="email-pass">{t('pass.current')}</label>
        <input id="email-pass" type="password" autoComplete="current-password" value={pass} {...invalid('pass')} onInput={(e) => setPass(e.currentTarget.value)} />
        {problem?.field === 'pass' && <p class="error" id="email-pass-err" role="alert">{problem.text}</p>}
      </div>
      <div class="row actions">
        <button type="submit" class="primary" disabled={busy}>{busy ? t('common.saving') : t('email.send')}</button>
        <button type="button" onClick={onClose}>{t('common.cancel')}</button>
      </div>
    </form>
  );
}
