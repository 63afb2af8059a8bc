/**
 * Security: the passphrase change (derived in the browser as the login page does, PUT /settings/passphrase with the
 * current one; the other sessions are logged out) and two-factor authentication with an authenticator app (TOTP
 * enrolment with its QR code and a first code, recovery codes shown once, turning it off with the passphrase).
 */
import { useState } from 'preact/hooks';
import { Dialog, ErrorView, Loading, useBoot, useToast } from '../../shared/components';
import { api, copyText, derived, statusOf, strength, useLoad } from './hooks';

export function Security() {
  const { t } = useBoot();
  return (
    <>
      <h1>{t('security.title')}</h1>
      <PassphraseForm />
      <TwoFactor />
    </>
  );
}

/** The stack's refusal of a wrong passphrase: 400 invalid_passphrase (change), 422 wrong_passphrase (two-factor off). */
const wrongPassphrase = (e: unknown) => {
  const s = statusOf(e);
  return s === 400 || s === 422;
};

function PassphraseForm() {
  const { client, t } = useBoot();
  const toast = useToast();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<{ field: 'current' | 'next' | 'again'; text: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const score = strength(next);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!current) return setProblem({ field: 'current', text: t('pass.current.missing') });
    if (next.length < 8) return setProblem({ field: 'next', text: t('pass.short') });
    if (next !== again) return setProblem({ field: 'again', text: t('pass.mismatch') });
    setProblem(null);
    setBusy(true);
    try {
      const cur = await derived(client, current);
      const nw = await derived(client, next);
      await api(client, 'PUT', '/settings/passphrase', { current_passphrase: cur.value, new_passphrase: nw.value, iterations: nw.iterations });
      setCurrent(''); setNext(''); setAgain('');
      toast.show(t('pass.changed'));
    } catch (err) {
      if (wrongPassphrase(err)) setProblem({ field: 'current', text: t('pass.wrong') });
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  const invalid = (f: string) => (problem?.field === f ? 'true' : undefined);
  const msg = (f: string) => problem?.field === f && <p class="error" id={`pass-${f}-err`} role="alert">{problem.text}</p>;
  return (
    <form class="card" onSubmit={submit} aria-labelledby="pass-h" noValidate>
      <h2 id="pass-h">{t('pass.title')}</h2>
      <p class="muted small">{t('pass.intro')}</p>
      {error != null && <ErrorView error={error} />}
      <div class="field">
        <label for="pass-current">{t('pass.current')}</label>
        <input id="pass-current" type="password" autoComplete="current-password" value={current} aria-invalid={invalid('current')}
          aria-describedby={problem?.field === 'current' ? 'pass-current-err' : undefined} onInput={(e) => setCurrent(e.currentTarget.value)} />
        {msg('current')}
      </div>
      <div class="field">
        <label for="pass-next">{t('pass.new')}</label>
        <input id="pass-next" type="password" autoComplete="new-password" value={next} aria-invalid={invalid('next')}
          aria-describedby="pass-strength" onInput={(e) => setNext(e.currentTarget.value)} />
        <meter class="strength" min={0} max={4} low={2} high={3} optimum={4} value={score} aria-label={t('pass.strength')} />
        <p class="hint" id="pass-strength" aria-live="polite">{next ? t(`pass.strength.${score}`) : t('pass.hint')}</p>
        {msg('next')}
      </div>
      <div class="field">
        <label for="pass-again">{t('pass.again')}</label>
        <input id="pass-again" type="password" autoComplete="new-password" value={again} aria-invalid={invalid('again')}
          aria-describedby={problem?.field === 'again' ? 'pass-again-err' : undefined} onInput={(e) => setAgain(e.currentTarget.value)} />
        {msg('again')}
      </div>
      <button type="submit" class="primary" disabled={busy}>{busy ? t('common.saving') : t('pass.submit')}</button>
    </form>
  );
}

interface Enrolment { secret: string; otpauth_uri: string; qr_svg: string }

function TwoFactor() {
  const { client, t } = useBoot();
  const state = useLoad(() => api<{ auth_mode: string; recovery_codes_left: number }>(client, 'GET', '/settings/twofactor/recovery_codes'));
  const mode = { ...state, data: state.data?.auth_mode ?? null };
  const toast = useToast();
  const [renewing, setRenewing] = useState(false);
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [disabling, setDisabling] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const start = async () => {
    setError(null);
    try {
      setEnrolment(await api<Enrolment>(client, 'POST', '/settings/twofactor/totp'));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="card" aria-labelledby="tf-h">
      <h2 id="tf-h">{t('tf.title')}</h2>
      {mode.loading && <Loading />}
      {mode.error != null && <ErrorView error={mode.error} onRetry={mode.reload} />}
      {error != null && <ErrorView error={error} />}
      {mode.data === 'basic' && (
        <>
          <p>{t('tf.off')}</p>
          <button type="button" class="primary" onClick={() => void start()}>{t('tf.setup')}</button>
        </>
      )}
      {mode.data === 'two_factor_mail' && <p>{t('tf.mail')}</p>}
      {mode.data === 'two_factor_totp' && (
        <>
          <p><span class="badge">{t('tf.on.badge')}</span> {t('tf.on')}</p>
          <p class={state.data && state.data.recovery_codes_left < 3 ? 'error' : 'muted'}>{t('tf.codes.left', { n: state.data?.recovery_codes_left ?? 0 })}</p>
          <div class="row"><button type="button" onClick={() => setRenewing(true)}>{t('tf.codes.renew')}</button></div>
        </>
      )}
      {(mode.data === 'two_factor_totp' || mode.data === 'two_factor_mail') && (
        <div class="row actions"><button type="button" class="danger" onClick={() => setDisabling(true)}>{t('tf.disable')}</button></div>
      )}
      {enrolment && <EnrolDialog enrolment={enrolment} onClose={() => setEnrolment(null)} onDone={(c) => { setEnrolment(null); setCodes(c); mode.reload(); }} />}
      {codes && <CodesDialog codes={codes} onClose={() => setCodes(null)} />}
      {disabling && (
        <PassphraseDialog title={t('tf.disable')} intro={t('tf.disable.intro')} action={t('tf.disable')} danger onClose={() => setDisabling(false)}
          run={async (passphrase) => {
            await api(client, 'DELETE', '/settings/twofactor', { passphrase });
            toast.show(t('tf.disabled'));
            setDisabling(false);
            mode.reload();
          }} />
      )}
      {renewing && (
        <PassphraseDialog title={t('tf.codes.renew')} intro={t('tf.codes.renew.intro')} action={t('tf.codes.renew.action')} onClose={() => setRenewing(false)}
          run={async (passphrase) => {
            const r = await api<{ recovery_codes: string[] }>(client, 'POST', '/settings/twofactor/recovery_codes', { passphrase });
            setRenewing(false);
            setCodes(r.recovery_codes);
            mode.reload();
          }} />
      )}
    </section>
  );
}

function EnrolDialog({ enrolment, onClose, onDone }: { enrolment: Enrolment; onClose: () => void; onDone: (codes: string[]) => void }) {
  const { client, t } = useBoot();
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [wrong, setWrong] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const confirm = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setWrong(false);
    try {
      const r = await api<{ recovery_codes: string[] }>(client, 'POST', '/settings/twofactor/totp/confirm', { code: code.replace(/\s/g, '') });
      onDone(r.recovery_codes);
    } catch (err) {
      if (statusOf(err) === 422) setWrong(true);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  const qr = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}`;
  return (
    <Dialog title={t('tf.setup')} onClose={onClose}>
      <form onSubmit={confirm}>
        <p>{t('tf.scan')}</p>
        <img class="qr" src={qr} alt={t('tf.qr.alt')} width={200} height={200} />
        <p class="small">{t('tf.secret')} <code class="secret" data-testid="totp-secret">{enrolment.secret}</code></p>
        {error != null && <ErrorView error={error} />}
        <div class="field">
          <label for="tf-code">{t('tf.code')}</label>
          <input id="tf-code" inputMode="numeric" autoComplete="one-time-code" maxLength={8} value={code} aria-invalid={wrong ? 'true' : undefined}
            aria-describedby={wrong ? 'tf-code-err' : undefined} onInput={(e) => setCode(e.currentTarget.value)} />
          {wrong && <p class="error" id="tf-code-err" role="alert">{t('tf.code.wrong')}</p>}
        </div>
        <div class="row actions">
          <button type="submit" class="primary" disabled={busy || code.trim() === ''}>{t('tf.confirm')}</button>
          <button type="button" onClick={onClose}>{t('common.cancel')}</button>
        </div>
      </form>
    </Dialog>
  );
}

function CodesDialog({ codes, onClose }: { codes: string[]; onClose: () => void }) {
  const { t } = useBoot();
  const toast = useToast();
  const copy = () => copyText(codes.join('\n'), toast, t);
  return (
    <Dialog title={t('tf.codes.title')} onClose={onClose} footer={<><button type="button" onClick={() => void copy()}>{t('common.copy')}</button><button type="button" class="primary" onClick={onClose}>{t('tf.codes.done')}</button></>}>
      <p>{t('tf.codes.intro', { n: codes.length })}</p>
      <ul class="codes" aria-label={t('tf.codes.title')}>{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
    </Dialog>
  );
}

/** Asks the passphrase before a change of the second factor; a wrong one is said next to the field. */
function PassphraseDialog({ title, intro, action, danger, onClose, run }: { title: string; intro: string; action: string; danger?: boolean; onClose: () => void; run: (derivedPassphrase: string) => Promise<void> }) {
  const { client, t } = useBoot();
  const [pass, setPass] = useState('');
  const [busy, setBusy] = useState(false);
  const [wrong, setWrong] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setWrong(false);
    setError(null);
    try {
      await run((await derived(client, pass)).value);
    } catch (err) {
      if (wrongPassphrase(err)) setWrong(true);
      else setError(err);
      setBusy(false);
    }
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={submit}>
        <p>{intro}</p>
        {error != null && <ErrorView error={error} />}
        <div class="field">
          <label for="tf-pass">{t('pass.current')}</label>
          <input id="tf-pass" type="password" autoComplete="current-password" value={pass} aria-invalid={wrong ? 'true' : undefined}
            aria-describedby={wrong ? 'tf-pass-err' : undefined} onInput={(e) => setPass(e.currentTarget.value)} />
          {wrong && <p class="error" id="tf-pass-err" role="alert">{t('pass.wrong')}</p>}
        </div>
        <div class="row actions">
          <button type="submit" class={danger ? 'danger primary' : 'primary'} disabled={busy || !pass}>{action}</button>
          <button type="button" onClick={onClose}>{t('common.cancel')}</button>
        </div>
      </form>
    </Dialog>
  );
}
