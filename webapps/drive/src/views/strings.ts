/**
 * The strings of Drive's views (preview, versions, sharing, links, photos, the public page and the PICK intent), in
 * English and French. `useViewsT()` reads them in the instance's locale and falls back to the app's own dictionary
 * (the shared error and common strings), so the views never depend on the shell's locales file.
 */
import { useMemo } from 'preact/hooks';
import { useBoot } from '../../../shared/components';
import { makeT, type T } from '../../../shared/i18n';

export const VIEWS_EN: Record<string, string> = {
  'preview.previous': 'Previous file', 'preview.next': 'Next file', 'preview.download': 'Download',
  'preview.position': '%{i} of %{n}', 'preview.loading': 'Loading the preview…',
  'preview.none': 'No preview for this kind of file.', 'preview.none.action': 'Download it to open it with an app of your device.',
  'preview.truncated': 'Only the first megabyte is shown. Download the file to read it all.',
  'preview.failed': 'The preview could not be shown.', 'preview.failed.action': 'Download the file to open it on your device.',
  'preview.pdf': 'PDF document %{name}', 'preview.text': 'Content of %{name}',
  'versions.title': 'Versions of %{name}', 'versions.current': 'Current version', 'versions.empty': 'No older version',
  'versions.empty.hint': 'When this file is replaced, its previous contents are kept here.',
  'versions.download': 'Download the version of %{date}', 'versions.revert': 'Restore',
  'versions.revert.label': 'Restore the version of %{date}',
  'versions.confirm.title': 'Restore this version?',
  'versions.confirm.text': 'The content of %{date} becomes the current content of %{name}. The current content is kept as a version.',
  'versions.reverted': 'The version of %{date} is restored.',
  'share.title': 'Share %{name}', 'share.intro': 'Anyone with the link can see and download it. They cannot change anything.',
  'share.password': 'Password (optional)', 'share.password.hint': 'People opening the link must type it.',
  'share.expires': 'Expires on (optional)', 'share.expires.hint': 'After this day the link stops working.',
  'share.create': 'Create a link', 'share.created': 'Link created.', 'share.links': 'Links to this item',
  'share.nolinks': 'No link shares it yet.', 'share.copy': 'Copy the link', 'share.copied': 'Link copied.',
  'share.copy.manual': 'Copy the link shown in the field (Ctrl+C).', 'share.url': 'Link',
  'share.revoke': 'Revoke', 'share.revoke.label': 'Revoke the link %{code}', 'share.revoked': 'Link revoked: it no longer opens.',
  'share.protected': 'Password', 'share.expiresOn': 'Until %{date}', 'share.expired': 'Expired', 'share.never': 'No expiry',
  'share.past': 'Choose a day after today.',
  'links.title': 'Shared links', 'links.empty': 'You have not shared anything by link.',
  'links.empty.hint': 'Share a file or a folder from its menu: the links appear here.', 'links.open': 'Open the link of %{name}',
  'links.unknown': 'A deleted item',
  'photos.title': 'Photos', 'photos.empty': 'No photo yet.', 'photos.empty.hint': 'Photos you upload to Drive appear here, by the date they were taken.',
  'photos.more': 'Load more photos', 'photos.count': '%{n} photo |||| %{n} photos', 'photos.open': 'Open %{name}',
  'public.title': 'Shared with you', 'public.download': 'Download', 'public.zip': 'Download all (zip)',
  'public.empty': 'This folder is empty.', 'public.invalid': 'This link does not work.',
  'public.invalid.action': 'It may have been revoked or may have expired: ask the person who sent it for a new one.',
  'public.items': '%{n} item |||| %{n} items', 'public.preview': 'Preview %{name}',
  'pick.title': 'Choose a file', 'pick.choose': 'Choose', 'pick.root': 'My Drive', 'pick.up': 'Back to %{name}',
  'pick.breadcrumb': 'Folder path', 'pick.empty': 'This folder is empty.', 'pick.select': 'Select %{name}',
  'pick.open': 'Open the folder %{name}', 'pick.nothing': 'Select a file first.',
};

export const VIEWS_FR: Record<string, string> = {
  'preview.previous': 'Fichier précédent', 'preview.next': 'Fichier suivant', 'preview.download': 'Télécharger',
  'preview.position': '%{i} sur %{n}', 'preview.loading': 'Chargement de l\u2019aperçu…',
  'preview.none': 'Pas d\u2019aperçu pour ce type de fichier.', 'preview.none.action': 'Téléchargez-le pour l\u2019ouvrir avec une application de votre appareil.',
  'preview.truncated': 'Seul le premier mégaoctet est affiché. Téléchargez le fichier pour tout lire.',
  'preview.failed': 'L\u2019aperçu n\u2019a pas pu être affiché.', 'preview.failed.action': 'Téléchargez le fichier pour l\u2019ouvrir sur votre appareil.',
  'preview.pdf': 'Document PDF %{name}', 'preview.text': 'Contenu de %{name}',
  'versions.title': 'Versions de %{name}', 'versions.current': 'Version actuelle', 'versions.empty': 'Aucune version précédente',
  'versions.empty.hint': 'Quand ce fichier est remplacé, ses contenus précédents sont gardés ici.',
  'versions.download': 'Télécharger la version du %{date}', 'versions.revert': 'Restaurer',
  'versions.revert.label': 'Restaurer la version du %{date}',
  'versions.confirm.title': 'Restaurer cette version ?',
  'versions.confirm.text': 'Le contenu du %{date} redevient le contenu actuel de %{name}. Le contenu actuel est gardé comme version.',
  'versions.reverted': 'La version du %{date} est restaurée.',
  'share.title': 'Partager %{name}', 'share.intro': 'Toute personne qui a le lien peut le voir et le télécharger, sans rien pouvoir modifier.',
  'share.password': 'Mot de passe (facultatif)', 'share.password.hint': 'Il sera demandé à l\u2019ouverture du lien.',
  'share.expires': 'Expire le (facultatif)', 'share.expires.hint': 'Après ce jour, le lien ne fonctionne plus.',
  'share.create': 'Créer un lien', 'share.created': 'Lien créé.', 'share.links': 'Liens vers cet élément',
  'share.nolinks': 'Aucun lien ne le partage pour l\u2019instant.', 'share.copy': 'Copier le lien', 'share.copied': 'Lien copié.',
  'share.copy.manual': 'Copiez le lien affiché dans le champ (Ctrl+C).', 'share.url': 'Lien',
  'share.revoke': 'Révoquer', 'share.revoke.label': 'Révoquer le lien %{code}', 'share.revoked': 'Lien révoqué : il ne s\u2019ouvre plus.',
  'share.protected': 'Mot de passe', 'share.expiresOn': 'Jusqu\u2019au %{date}', 'share.expired': 'Expiré', 'share.never': 'Sans expiration',
  'share.past': 'Choisissez un jour après aujourd\u2019hui.',
  'links.title': 'Liens partagés', 'links.empty': 'Vous n\u2019avez rien partagé par lien.',
  'links.empty.hint': 'Partagez un fichier ou un dossier depuis son menu : les liens apparaissent ici.', 'links.open': 'Ouvrir le lien de %{name}',
  'links.unknown': 'Un élément supprimé',
  'photos.title': 'Photos', 'photos.empty': 'Aucune photo pour l\u2019instant.', 'photos.empty.hint': 'Les photos que vous déposez dans Drive apparaissent ici, à la date de leur prise de vue.',
  'photos.more': 'Charger plus de photos', 'photos.count': '%{n} photo |||| %{n} photos', 'photos.open': 'Ouvrir %{name}',
  'public.title': 'Partagé avec vous', 'public.download': 'Télécharger', 'public.zip': 'Tout télécharger (zip)',
  'public.empty': 'Ce dossier est vide.', 'public.invalid': 'Ce lien ne fonctionne pas.',
  'public.invalid.action': 'Il a peut-être été révoqué ou a expiré : demandez-en un nouveau à la personne qui l\u2019a envoyé.',
  'public.items': '%{n} élément |||| %{n} éléments', 'public.preview': 'Aperçu de %{name}',
  'pick.title': 'Choisir un fichier', 'pick.choose': 'Choisir', 'pick.root': 'Mon Drive', 'pick.up': 'Revenir à %{name}',
  'pick.breadcrumb': 'Chemin du dossier', 'pick.empty': 'Ce dossier est vide.', 'pick.select': 'Sélectionner %{name}',
  'pick.open': 'Ouvrir le dossier %{name}', 'pick.nothing': 'Sélectionnez d\u2019abord un fichier.',
};

/** The views' translator: their strings first, then the app's (shared errors, common words). */
export function useViewsT(): T {
  const b = useBoot();
  return useMemo(() => {
    const own = makeT(b.locale === 'fr' ? VIEWS_FR : VIEWS_EN, VIEWS_EN);
    return (key, vars) => (key in VIEWS_EN ? own(key, vars) : b.t(key, vars));
  }, [b]);
}
