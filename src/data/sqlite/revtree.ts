/**
 * Revision trees, CouchDB style, on top of pouchdb-merge (the tree merge, stemming
 * and winner rules PouchDB itself uses, so that both sides of a replication pick
 * the same winner). A tree is PouchDB's `rev_tree` array.
 */
import merge from 'pouchdb-merge';
import { createHash } from 'node:crypto';

export type RevOpts = { status?: 'available' | 'missing'; deleted?: boolean };
export type RevNode = [string, RevOpts, RevNode[]];
export type RevTree = Array<{ pos: number; ids: RevNode }>;
export type MergeConflict = 'new_leaf' | 'new_branch' | 'internal_node';

export const REVS_LIMIT = 1000;

interface MergeApi {
  merge(tree: RevTree, path: { pos: number; ids: RevNode }, depth: number): { tree: RevTree; stemmedRevs: string[]; conflicts: MergeConflict };
  winningRev(meta: { rev_tree: RevTree }): string;
  collectLeaves(tree: RevTree): Array<{ rev: string; opts: RevOpts }>;
  collectConflicts(meta: { rev_tree: RevTree }): string[];
  revExists(tree: RevTree, rev: string): boolean;
  rootToLeaf(tree: RevTree): Array<{ pos: number; ids: Array<{ id: string; opts: RevOpts }> }>;
  latest(rev: string, meta: { rev_tree: RevTree; id?: string }): string;
  traverseRevTree(tree: RevTree, cb: (isLeaf: boolean, pos: number, id: string, ctx: unknown, opts: RevOpts) => unknown): void;
}
const pm = merge as unknown as MergeApi;

const REV_RE = /^([1-9][0-9]{0,8})-([0-9a-f]{32})$/;

export function parseRev(rev: unknown): { pos: number; hash: string } | null {
  if (typeof rev !== 'string') return null;
  const m = REV_RE.exec(rev);
  return m ? { pos: Number(m[1]), hash: m[2] as string } : null;
}

export const winningRev = (tree: RevTree): string => pm.winningRev({ rev_tree: tree });
export const leaves = (tree: RevTree) => pm.collectLeaves(tree);
export const conflicts = (tree: RevTree): string[] => pm.collectConflicts({ rev_tree: tree });
export const revExists = (tree: RevTree, rev: string): boolean => pm.revExists(tree, rev);
export const latestLeaf = (tree: RevTree, rev: string): string => pm.latest(rev, { rev_tree: tree });

export function deletedConflicts(tree: RevTree): string[] {
  const win = winningRev(tree);
  return leaves(tree).filter((l) => l.rev !== win && l.opts.deleted).map((l) => l.rev);
}

export function isLeafDeleted(tree: RevTree, rev: string): boolean {
  return leaves(tree).some((l) => l.rev === rev && !!l.opts.deleted);
}

/** Merges a root-to-leaf path into a tree (or starts a tree when `tree` is null). */
export function mergePath(tree: RevTree | null, path: { pos: number; ids: RevNode }) {
  if (!tree || tree.length === 0) return { tree: [path] as RevTree, stemmedRevs: [] as string[], conflicts: 'new_leaf' as MergeConflict };
  return pm.merge(tree, path, REVS_LIMIT);
}

/** Builds a path from CouchDB's `_revisions` {start, ids} (newest first). */
export function pathFromRevisions(start: number, ids: string[], deleted: boolean): { pos: number; ids: RevNode } {
  let node: RevNode = [ids[0] as string, { status: 'available', deleted }, []];
  for (let i = 1; i < ids.length; i++) node = [ids[i] as string, { status: 'missing' }, [node]];
  return { pos: start - ids.length + 1, ids: node };
}

/** The ancestry of `rev` (newest first), as CouchDB's `_revisions`. */
export function revisionsOf(tree: RevTree, rev: string): { start: number; ids: string[] } | null {
  const parsed = parseRev(rev);
  if (!parsed) return null;
  for (const path of pm.rootToLeaf(tree)) {
    const idx = parsed.pos - path.pos;
    if (idx >= 0 && idx < path.ids.length && path.ids[idx]?.id === parsed.hash) {
      const ids = path.ids.slice(0, idx + 1).map((n) => n.id).reverse();
      return { start: parsed.pos, ids };
    }
  }
  return null;
}

/** `_revs_info` for a rev: each ancestor with its availability. */
export function revsInfo(tree: RevTree, rev: string, available: (rev: string) => boolean) {
  const revisions = revisionsOf(tree, rev);
  if (!revisions) return [];
  return revisions.ids.map((hash, i) => {
    const r = `${revisions.start - i}-${hash}`;
    const deleted = isLeafDeleted(tree, r);
    return { rev: r, status: deleted ? 'deleted' : available(r) ? 'available' : 'missing' };
  });
}

/** Every rev present in the tree (leaves and ancestors). */
export function allRevs(tree: RevTree): Set<string> {
  const out = new Set<string>();
  pm.traverseRevTree(tree, (_leaf, pos, id) => {
    out.add(`${pos}-${id}`);
    return undefined;
  });
  return out;
}

/** Deterministic new rev hash, as CouchDB: same parent and same content give the same rev. */
export function newRevHash(parentRev: string | null, body: unknown, deleted: boolean): string {
  return createHash('md5')
    .update(parentRev ?? '')
    .update(deleted ? '\u0001' : '\u0000')
    .update(JSON.stringify(body))
    .digest('hex');
}
