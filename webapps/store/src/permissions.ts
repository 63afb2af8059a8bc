/**
 * Permissions in plain words: a manifest rule (doctype + verbs + values) as a sentence a person understands, in English
 * and French ("Read your files", "Lire et modifier vos contacts"). Doctypes outside the table fall back to the
 * manifest's own description and the doctype's name.
 */
import type { Perm } from './api';

/** What a doctype holds, as the object of "Read …" (en) and "Lire …" (fr). */
const DOCTYPES: Record<string, { en: string; fr: string }> = {
  'io.cozy.files': { en: 'your files', fr: 'vos fichiers' },
  'io.cozy.files.versions': { en: 'the old versions of your files', fr: 'les anciennes versions de vos fichiers' },
  'io.cozy.contacts': { en: 'your contacts', fr: 'vos contacts' },
  'io.cozy.contacts.groups': { en: 'your contact groups', fr: 'vos groupes de contacts' },
  'io.cozy.apps': { en: 'your apps', fr: 'vos applications' },
  'io.cozy.konnectors': { en: 'your connectors', fr: 'vos connecteurs' },
  'io.cozy.accounts': { en: 'your connected accounts', fr: 'vos comptes connectés' },
  'io.cozy.triggers': { en: 'the scheduled tasks', fr: 'les tâches planifiées' },
  'io.cozy.jobs': { en: 'the background tasks', fr: 'les tâches de fond' },
  'io.cozy.notifications': { en: 'your notifications', fr: 'vos notifications' },
  'io.cozy.settings': { en: 'your settings', fr: 'vos paramètres' },
  'io.cozy.permissions': { en: 'the permissions and sharing links', fr: 'les permissions et les liens de partage' },
  'io.cozy.sharings': { en: 'your sharings', fr: 'vos partages' },
  'io.cozy.oauth.clients': { en: 'your connected devices', fr: 'vos appareils connectés' },
  'io.cozy.photos.albums': { en: 'your photo albums', fr: 'vos albums photo' },
  'io.cozy.bills': { en: 'your bills', fr: 'vos factures' },
  'io.cozy.bank.accounts': { en: 'your bank accounts', fr: 'vos comptes bancaires' },
  'io.cozy.bank.operations': { en: 'your bank transactions', fr: 'vos opérations bancaires' },
  'io.cozy.identities': { en: 'your identities', fr: 'vos identités' },
  'io.cozy.calendar.events': { en: 'your calendar events', fr: 'les événements de votre agenda' },
  'io.cozy.todos': { en: 'your to-do lists', fr: 'vos listes de tâches' },
  'io.cozy.notes': { en: 'your notes', fr: 'vos notes' },
  'io.cozy.tags': { en: 'your tags', fr: 'vos étiquettes' },
  'io.cozy.intents': { en: 'the requests between apps', fr: 'les demandes entre applications' },
  'io.cozy.apps.logs': { en: 'the apps\u2019 logs', fr: 'les journaux des applications' },
  'io.cozy.jobs.events': { en: 'the progress of background tasks', fr: 'l\u2019avancement des tâches de fond' },
  'io.cozy.sessions': { en: 'your login sessions', fr: 'vos sessions de connexion' },
  'io.cozy.timeseries.geojson': { en: 'your trips', fr: 'vos trajets' },
};

const VERBS = {
  en: { read: 'Read %s', write: 'Add and change %s', both: 'Read and change %s', remove: 'Delete %s', some: ' (some of them only)', other: 'Use the data type %s' },
  fr: { read: 'Lire %s', write: 'Ajouter et modifier %s', both: 'Lire et modifier %s', remove: 'Supprimer %s', some: ' (une partie seulement)', other: 'Utiliser le type de données %s' },
};

export interface PermissionWords {
  /** The sentence: "Read and change your contacts". */
  text: string;
  /** The app's own reason (its manifest's description), when it gave one. */
  why: string;
  doctype: string;
}

export function permissionInWords(p: Perm, locale: 'en' | 'fr'): PermissionWords {
  const words = VERBS[locale];
  const verbs = (p.verbs ?? []).map((v) => v.toUpperCase());
  const all = verbs.length === 0 || verbs.includes('ALL');
  const read = all || verbs.includes('GET');
  const write = all || verbs.some((v) => v === 'POST' || v === 'PUT' || v === 'PATCH');
  const remove = all || verbs.includes('DELETE');
  const what = DOCTYPES[p.type]?.[locale];
  const why = typeof p.description === 'string' ? p.description.trim().slice(0, 300) : '';
  let text: string;
  if (!what) text = words.other.replace('%s', p.type);
  else if (read && (write || remove)) text = words.both.replace('%s', what);
  else if (read) text = words.read.replace('%s', what);
  else if (write) text = words.write.replace('%s', what);
  else text = words.remove.replace('%s', what);
  if (what && Array.isArray(p.values) && p.values.length > 0) text += words.some;
  return { text, why, doctype: p.type };
}
