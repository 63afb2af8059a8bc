/**
 * V8's young generation during start-up. Loading and wiring the server allocates a burst of short-lived objects
 * that grows the new space to its maximum (2 × 16 MB), and an idle server keeps it: about 8 MB of idle RSS.
 * The entries that start a server (bin/hearth.js, bench/hearth-main.ts) set `--semi-space-growth-factor=1` before
 * loading anything, so that the new space keeps its initial size through the start; `hearth serve` gives V8 back
 * its default growth once it listens, so that a busy server sizes its young generation as usual. The factor is
 * read each time the new space would grow, so changing it at run time is safe (unlike the sizes fixed at start).
 */
import { setFlagsFromString } from 'node:v8';

/** V8's default `--semi-space-growth-factor`. */
const DEFAULT_GROWTH = 2;

export function releaseYoungGeneration(): void {
  setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH}`);
}
