/** Reading a V8 .cpuprofile (--cpu-prof): its nodes by id, their parents, and short labels (for profile-top.ts, profile-stalls.ts). */
import { readFileSync } from 'node:fs';

export interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
export interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function loadProfile(file: string): { prof: Profile; byId: Map<number, Node>; parent: Map<number, number> } {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  return { prof, byId, parent };
}

/** A script's URL as a package path (inside node_modules) or a path from the repository's src/, test/ or bench/. */
export const short = (url: string): string => {
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm + 'node_modules/'.length);
  const src = u.search(/\/(src|test|bench)\//);
  return src >= 0 ? u.slice(src + 1) : u || '(native)';
};
export const label = (n: Node): string => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
