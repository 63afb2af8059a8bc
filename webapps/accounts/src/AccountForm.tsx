/**
 * The add / change-credentials dialog, generated from the konnector's `fields` (fields.ts). Secrets are never
 * prefilled: in a change they say "leave empty to keep". Each invalid field says why (aria-invalid, aria-describedby),
 * and the first one takes the focus; a refusal of the stack is shown in the dialog, the form kept as typed.
 */
import type { JSX } from 'preact';
import { useMemo, useRef, useState } from 'preact/hooks';
import { Dialog, ErrorView, useBoot } from '../../shared/components';
import type { Konnector } from './api';
import { authOf, fieldsOf, initialValues, SECRET_NAMES, validate, type FieldDef, type Mode, type Values } from './fields';

interface Props {
  konnector: Konnector;
  mode: Mode;
  /** The stored auth of the account changed (its sealed fields are never shown). */
  stored?: Record<string, unknown>;
  onSubmit(auth: Record<string, string>): Promise<void>;
  onClose(): void;
}

export function AccountForm({ konnector, mode, stored, onSubmit, onClose }: Props): JSX.Element {
  const { t, locale } = useBoot();
  const defs = useMemo(() => fieldsOf(konnector, locale, t), [konnector, locale, t]);
  const [values, setValues] = useState<Values>(() => initialValues(defs, stored));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [advanced, setAdvanced] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const formId = `account-form-${konnector.slug}`;

  const submit = async (e: Event) => {
    e.preventDefault();
    const found = validate(defs, values, mode, t, stored);
    setErrors(found);
    const first = Object.keys(found)[0];
    if (first) {
      if (defs.find((d) => d.name === first)?.advanced) setAdvanced(true);
      setTimeout(() => form.current?.querySelector<HTMLElement>(`[name="${first}"]`)?.focus(), 0);
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      await onSubmit(authOf(defs, values, mode));
    } catch (err) {
      setFailure(err);
      setBusy(false);
    }
  };

  const visible = defs.filter((d) => d.kind !== 'hidden');
  const basic = visible.filter((d) => !d.advanced);
  const more = visible.filter((d) => d.advanced);
  const title = mode === 'create' ? t('form.add.title', { name: konnector.name }) : t('form.edit.title', { name: konnector.name });
  return (
    <Dialog title={title} onClose={onClose} footer={<>
      <button type="button" onClick={onClose}>{t('common.cancel')}</button>
      <button type="submit" form={formId} class="primary" disabled={busy}>{busy ? t('form.saving') : mode === 'create' ? t('form.add.submit') : t('common.save')}</button>
    </>}>
      <form id={formId} ref={form} onSubmit={submit} noValidate>
        {mode === 'edit' && <p class="muted small">{t('form.edit.hint')}</p>}
        {failure !== null && <ErrorView error={failure} />}
        {visible.length === 0 && <p class="muted">{t('form.nofields')}</p>}
        {basic.map((d) => <Field key={d.name} def={d} mode={mode} value={values[d.name] ?? ''} error={errors[d.name]} onInput={(v) => setValues((x) => ({ ...x, [d.name]: v }))} />)}
        {more.length > 0 && (
          <>
            <button type="button" class="ghost advanced-toggle" aria-expanded={advanced} onClick={() => setAdvanced((a) => !a)}>{advanced ? t('form.advanced.hide') : t('form.advanced.show')}</button>
            {advanced && more.map((d) => <Field key={d.name} def={d} mode={mode} value={values[d.name] ?? ''} error={errors[d.name]} onInput={(v) => setValues((x) => ({ ...x, [d.name]: v }))} />)}
          </>
        )}
        <p class="muted small">{t('form.privacy')}</p>
      </form>
    </Dialog>
  );
}

function Field({ def, mode, value, error, onInput }: { def: FieldDef; mode: Mode; value: string; error?: string; onInput(v: string): void }): JSX.Element {
  const { t } = useBoot();
  const id = `f-${def.name}`;
  const secret = def.kind === 'password' || SECRET_NAMES.has(def.name);
  const hint = mode === 'edit' && secret ? t('form.keep') : def.required ? '' : t('form.optional');
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id, name: def.name, 'aria-invalid': error ? true : undefined, 'aria-describedby': described,
    required: def.required && !(mode === 'edit' && secret),
    onInput: (e: Event) => onInput((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{def.label}{common.required && <span aria-hidden="true"> *</span>}</label>
      {def.kind === 'dropdown' ? (
        <select {...common} value={value}>
          <option value="">{t('form.choose.option')}</option>
          {def.options.map((o) => <option key={o.value} value={o.value}>{o.name}</option>)}
        </select>
      ) : (
        <input
          {...common}
          // one input element for the four kinds (the union of Preact's input types takes one at a time)
          type={(def.kind === 'hidden' ? 'text' : def.kind) as 'text'}
          value={value}
          placeholder={def.placeholder}
          autocomplete={def.kind === 'password' ? (mode === 'create' ? 'new-password' : 'off') : def.name === 'login' ? 'username' : 'off'}
          spellcheck={false}
          autocapitalize="off"
        />
      )}
      {hint && <div class="hint" id={`${id}-hint`}>{hint}</div>}
      {error && <div class="error" id={`${id}-error`}>{error}</div>}
    </div>
  );
}
