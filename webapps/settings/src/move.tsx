/**
 * Move to another server (src/move/transfer): what moves and what happens, and the button that posts the stack's
 * POST /move/initialize (a form: the stack answers with the move wizard, `move.url`, Hearth's own by default).
 */
import { Truck } from 'lucide-preact';
import { useBoot } from '../../shared/components';

const STRINGS = {
  en: {
    intro: 'Take all your data to another Hearth (or Cozy) instance: documents, files with their versions, settings, apps and connectors.',
    steps: 'You will give the address of the new instance and its passphrase, then confirm by e-mail. While the data moves, the new instance is unavailable; once it is there, this address sends you to the new one.',
    replaced: 'The data already in the new instance is replaced.',
    start: 'Start the move',
  },
  fr: {
    intro: 'Emportez toutes vos données vers une autre instance Hearth (ou Cozy) : documents, fichiers avec leurs versions, paramètres, applications et connecteurs.',
    steps: "Vous donnerez l'adresse de la nouvelle instance et sa phrase de passe, puis confirmerez par e-mail. Pendant le déménagement, la nouvelle instance est indisponible ; ensuite, cette adresse vous renvoie vers la nouvelle.",
    replaced: 'Les données déjà présentes dans la nouvelle instance sont remplacées.',
    start: 'Lancer le déménagement',
  },
};

export function Move() {
  const { t, locale, stackOrigin } = useBoot();
  const s = STRINGS[locale];
  return (
    <>
      <h1>{t('nav.move')}</h1>
      <form class="card" method="post" action={`${stackOrigin}/move/initialize`} aria-labelledby="mv-h">
        <div class="row"><Truck size={24} aria-hidden="true" /><h2 id="mv-h" style={{ margin: 0 }}>{t('nav.move')}</h2></div>
        <p>{s.intro}</p>
        <p>{s.steps}</p>
        <p class="muted small">{s.replaced}</p>
        <button type="submit" class="primary">{s.start}</button>
      </form>
    </>
  );
}
