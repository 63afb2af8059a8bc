/** The mail that tells the owner how an import went (cozy-stack's import_success / import_error templates), EN and FR. */
import type { ImportReport } from './report.js';

export function importMail(locale: string, outcome: { ok: boolean; error?: string; report: ImportReport }): { subject: string; parts: Array<{ type: 'text/plain'; body: string }> } {
  const fr = locale.toLowerCase().startsWith('fr');
  const r = outcome.report;
  const lines: string[] = [];
  if (outcome.ok) {
    lines.push(fr ? 'L\'import de vos données est terminé.' : 'The import of your data is finished.');
    lines.push(fr ? `${r.docs} documents, ${r.dirs} dossiers, ${r.files} fichiers, ${r.versions} versions et ${r.triggers} déclencheurs importés.` : `${r.docs} documents, ${r.dirs} folders, ${r.files} files, ${r.versions} versions and ${r.triggers} triggers imported.`);
  } else {
    lines.push(fr ? `L'import de vos données a échoué : ${outcome.error ?? ''}` : `The import of your data failed: ${outcome.error ?? ''}`);
    lines.push(fr
      ? 'Votre instance est de nouveau utilisable. Vous pouvez relancer l\'import depuis les Paramètres (Import), avec le même lien tant que l\'export n\'a pas expiré, ou un nouveau.'
      : 'Your instance can be used again. You can start the import again from the Settings (Import), with the same link while the export has not expired, or a new one.');
  }
  if (r.apps.failed.length) {
    lines.push(fr ? 'Ces applications n\'ont pas pu être réinstallées :' : 'These apps could not be installed again:');
    for (const a of r.apps.failed) lines.push(`- ${a.slug}: ${a.error}`);
  }
  if (r.skipped_count) {
    lines.push(fr ? `${r.skipped_count} éléments de l'archive ont été écartés, dont :` : `${r.skipped_count} entries of the archive were left out, among them:`);
    for (const s of r.skipped.slice(0, 20)) lines.push(`- ${s.entry}: ${s.reason}`);
  }
  const subject = outcome.ok ? (fr ? 'Votre import est terminé' : 'Your import is finished') : (fr ? 'Votre import a échoué' : 'Your import failed');
  return { subject, parts: [{ type: 'text/plain', body: `${lines.join('\n')}\n` }] };
}
