/**
 * What an import does with each document of the archive (cozy-stack model/move/importer.go; cozy-move.md §2): some
 * doctypes are never taken (the target's own secrets and settings, end-to-end encrypted data, the export documents),
 * sharings and permissions only during a move, apps and konnectors are reinstalled from the registry, triggers are
 * created last, files and directories go through the file system, everything else is inserted as it is, without `_rev`.
 */
export type DocRule =
  | { kind: 'skip'; reason: string }
  | { kind: 'app'; appKind: 'webapp' | 'konnector'; slug: string }
  | { kind: 'trigger' }
  | { kind: 'dir-or-file' }
  | { kind: 'version' }
  | { kind: 'doc' };

const SLUG_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MOVE_ONLY = new Set(['io.cozy.sharings', 'io.cozy.shared', 'io.cozy.permissions']);

export function ruleFor(doctype: string, id: string, opts: { move: boolean }): DocRule {
  if (doctype === 'io.cozy.exports') return { kind: 'skip', reason: 'export documents are not imported' };
  if (doctype === 'io.cozy.sessions') return { kind: 'skip', reason: 'sessions are not imported' };
  if (doctype === 'io.cozy.jobs') return { kind: 'skip', reason: 'past jobs are not imported' };
  if (doctype.startsWith('com.bitwarden.') || doctype.startsWith('io.cozy.bitwarden.')) return { kind: 'skip', reason: 'end-to-end encrypted (bitwarden) data is not imported' };
  if (doctype === 'io.cozy.settings' && (id === 'io.cozy.settings.instance' || id === 'io.cozy.settings.bitwarden')) return { kind: 'skip', reason: 'this instance keeps its own settings' };
  if (MOVE_ONLY.has(doctype)) {
    // Hearth has no sharings between instances (src/sharings): a move brings none either
    return { kind: 'skip', reason: opts.move ? 'sharings and their permissions are not supported by Hearth' : 'sharings and permissions are imported only during a move' };
  }
  if (doctype === 'io.cozy.apps' || doctype === 'io.cozy.konnectors') {
    const slug = id.slice(id.lastIndexOf('/') + 1);
    if (!SLUG_RE.test(slug)) return { kind: 'skip', reason: 'not a valid app slug' };
    return { kind: 'app', appKind: doctype === 'io.cozy.apps' ? 'webapp' : 'konnector', slug };
  }
  if (doctype === 'io.cozy.triggers') return { kind: 'trigger' };
  if (doctype === 'io.cozy.files') return { kind: 'dir-or-file' };
  if (doctype === 'io.cozy.files.versions') return { kind: 'version' };
  return { kind: 'doc' };
}
