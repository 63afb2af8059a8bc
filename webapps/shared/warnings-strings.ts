/**
 * The strings of the instance's warnings banner (warnings-view.tsx, warnings-tos.tsx) in two languages: a chunk of
 * their own, imported only when there is a warning to show or a failure to say (warnings.tsx), so that a page's
 * script does not carry them otherwise. Imports nothing (a chunk shared with nothing).
 */
const TOS_STRINGS = {
  en: {
    'warnings.tos-updated.noLink': 'New terms of service apply to your Hearth from %{date}. They are not published online here: ask the person who runs your Hearth for them. Once you have accepted them, that person records it and this message goes away.',
    'warnings.tos-updated.noLinkNoDate': 'New terms of service apply to your Hearth. They are not published online here: ask the person who runs your Hearth for them. Once you have accepted them, that person records it and this message goes away.',
    'warnings.tos-updated.help': 'Ask for help',
    'warnings.tos-updated.selfHosted': 'You run this Hearth yourself?',
    'warnings.tos-updated.command': 'Record your acceptance of the terms %{version} on the server with:',
  },
  fr: {
    'warnings.tos-updated.noLink': 'De nouvelles conditions d\u2019utilisation s\u2019appliquent à votre Hearth à partir du %{date}. Elles ne sont pas publiées en ligne ici : demandez-les à la personne qui gère votre Hearth. Une fois que vous les avez acceptées, elle l\u2019enregistre et ce message disparaît.',
    'warnings.tos-updated.noLinkNoDate': 'De nouvelles conditions d\u2019utilisation s\u2019appliquent à votre Hearth. Elles ne sont pas publiées en ligne ici : demandez-les à la personne qui gère votre Hearth. Une fois que vous les avez acceptées, elle l\u2019enregistre et ce message disparaît.',
    'warnings.tos-updated.help': 'Demander de l\u2019aide',
    'warnings.tos-updated.selfHosted': 'Vous gérez ce Hearth vous-même ?',
    'warnings.tos-updated.command': 'Enregistrez votre acceptation des conditions %{version} sur le serveur avec :',
  },
};

/** The banner's strings, over the app's own (i18n.ts withStrings). */
export const WARNING_STRINGS = {
  en: {
    'warnings.label': 'Action required',
    'warnings.tos-updated.title': 'The terms of service have changed',
    'warnings.tos-updated.text': 'Read the new terms of service and accept them to keep using your Hearth.',
    'warnings.tos-updated.action': 'Read and accept the terms',
    'warnings.open': 'Take action', 'warnings.later': 'Later', 'warnings.laterLabel': 'Remind me later: %{title}',
    'warnings.failed': 'Hearth could not tell whether something needs your attention.',
    ...TOS_STRINGS.en,
  },
  fr: {
    'warnings.label': 'Action requise',
    'warnings.tos-updated.title': 'Les conditions d\u2019utilisation ont changé',
    'warnings.tos-updated.text': 'Lisez les nouvelles conditions générales d\u2019utilisation et acceptez-les pour continuer à utiliser votre Hearth.',
    'warnings.tos-updated.action': 'Lire et accepter les conditions',
    'warnings.open': 'Agir', 'warnings.later': 'Plus tard', 'warnings.laterLabel': 'Me le rappeler plus tard : %{title}',
    'warnings.failed': 'Hearth n\u2019a pas pu vérifier si quelque chose demande votre attention.',
    ...TOS_STRINGS.fr,
  },
};
