/**
 * What a person reads when something fails: what happened and what to do, never raw JSON. cozy-client throws
 * `FetchError`s carrying the HTTP status and the stack's JSON-API error (`errors[0].detail`).
 */
import type { T } from './i18n';

export interface Described {
  message: string;
  /** What to do next. */
  action: string;
  status?: number;
}

function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown; response?: { status?: unknown } } | null)?.status ?? (e as { response?: { status?: unknown } } | null)?.response?.status;
  return typeof s === 'number' ? s : undefined;
}

/** The stack's own words when it sent some (`errors[0].detail` or `error`), else null. */
export function detailOf(e: unknown): string | null {
  const reason = (e as { reason?: unknown } | null)?.reason as { errors?: { detail?: unknown; title?: unknown }[]; error?: unknown; message?: unknown } | undefined;
  const first = reason?.errors?.[0];
  const d = first?.detail ?? first?.title ?? reason?.error ?? reason?.message;
  return typeof d === 'string' && d.length > 0 && d.length < 300 ? d : null;
}

export function describeError(e: unknown, t: T): Described {
  const status = statusOf(e);
  const detail = detailOf(e);
  const msg = (key: string): string => (detail ? `${t(key)} (${detail})` : t(key));
  if (status === undefined) {
    if (e instanceof TypeError || /network|fetch/i.test(String((e as Error)?.message))) return { message: t('error.network'), action: t('error.network.action') };
    return { message: t('error.unknown'), action: t('error.retry.action') };
  }
  if (status === 401) return { message: t('error.session'), action: t('error.session.action'), status };
  if (status === 403) return { message: msg('error.forbidden'), action: t('error.forbidden.action'), status };
  if (status === 404) return { message: msg('error.notfound'), action: t('error.notfound.action'), status };
  if (status === 409 || status === 412) return { message: msg('error.conflict'), action: t('error.conflict.action'), status };
  if (status === 413) return { message: msg('error.quota'), action: t('error.quota.action'), status };
  if (status === 422 || status === 400) return { message: msg('error.invalid'), action: t('error.invalid.action'), status };
  if (status === 429) return { message: t('error.ratelimit'), action: t('error.ratelimit.action'), status };
  if (status === 503) return { message: t('error.unavailable'), action: t('error.retry.action'), status };
  return { message: msg('error.server'), action: t('error.retry.action'), status };
}

/** The shared strings of describeError, merged into every app's dictionaries. */
export const ERROR_STRINGS = {
  en: {
    'error.network': 'Hearth cannot be reached.', 'error.network.action': 'Check your connection, then try again.',
    'error.unknown': 'Something went wrong.', 'error.retry.action': 'Try again in a moment.',
    'error.session': 'Your session has ended.', 'error.session.action': 'Reload the page to log in again.',
    'error.forbidden': 'This app is not allowed to do that.', 'error.forbidden.action': 'Check the app\u2019s permissions in the Store.',
    'error.notfound': 'It no longer exists.', 'error.notfound.action': 'It may have been moved or deleted: refresh the list.',
    'error.conflict': 'It was changed somewhere else at the same time.', 'error.conflict.action': 'Refresh, then do it again.',
    'error.quota': 'There is not enough space left.', 'error.quota.action': 'Free some space (empty the trash) or ask for more.',
    'error.invalid': 'That was refused.', 'error.invalid.action': 'Check what you typed, then try again.',
    'error.ratelimit': 'Too many attempts.', 'error.ratelimit.action': 'Wait a minute, then try again.',
    'error.unavailable': 'Hearth is busy or in maintenance.', 'error.server': 'Hearth met an error.',
    'common.close': 'Close', 'common.cancel': 'Cancel', 'common.retry': 'Try again', 'common.loading': 'Loading…', 'common.home': 'Home',
    'common.dismiss': 'Dismiss', 'common.save': 'Save', 'common.delete': 'Delete', 'common.apps': 'Apps',
  },
  fr: {
    'error.network': 'Hearth est injoignable.', 'error.network.action': 'Vérifiez votre connexion, puis réessayez.',
    'error.unknown': 'Un problème est survenu.', 'error.retry.action': 'Réessayez dans un instant.',
    'error.session': 'Votre session est terminée.', 'error.session.action': 'Rechargez la page pour vous reconnecter.',
    'error.forbidden': 'Cette application n\u2019a pas le droit de faire cela.', 'error.forbidden.action': 'Vérifiez ses permissions dans le Store.',
    'error.notfound': 'Cet élément n\u2019existe plus.', 'error.notfound.action': 'Il a peut-être été déplacé ou supprimé : actualisez la liste.',
    'error.conflict': 'Il a été modifié ailleurs en même temps.', 'error.conflict.action': 'Actualisez, puis recommencez.',
    'error.quota': 'Il n\u2019y a plus assez d\u2019espace.', 'error.quota.action': 'Libérez de l\u2019espace (videz la corbeille) ou demandez-en plus.',
    'error.invalid': 'Cela a été refusé.', 'error.invalid.action': 'Vérifiez votre saisie, puis réessayez.',
    'error.ratelimit': 'Trop de tentatives.', 'error.ratelimit.action': 'Attendez une minute, puis réessayez.',
    'error.unavailable': 'Hearth est occupé ou en maintenance.', 'error.server': 'Hearth a rencontré une erreur.',
    'common.close': 'Fermer', 'common.cancel': 'Annuler', 'common.retry': 'Réessayer', 'common.loading': 'Chargement…', 'common.home': 'Accueil',
    'common.dismiss': 'Masquer', 'common.save': 'Enregistrer', 'common.delete': 'Supprimer', 'common.apps': 'Applications',
  },
} as const;
