/** The Settings app's small helpers: loading a stack route into state, calling the stack, deriving a passphrase, naming a device. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { AppClient } from '../../shared/client';

export interface Loaded<T> { data: T | null; error: unknown; loading: boolean; reload: () => void; set: (v: T) => void }

/** Runs `fn` on mount and on `reload()`: the data, or the error to show. */
export function useLoad<T>(fn: () => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    fn().then((data) => live && setState({ data, error: null, loading: false }), (error: unknown) => live && setState({ data: null, error, loading: false }));
    return () => { live = false; };
  }, [n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  const set = useCallback((data: T) => setState({ data, error: null, loading: false }), []);
  return { ...state, reload, set };
}

/** A stack route no cozy-client collection covers (JSON in, JSON out; null for a 204). */
export function api<T = unknown>(client: AppClient, method: string, path: string, body?: unknown): Promise<T> {
  return client.getStackClient().fetchJSON(method, path, body) as Promise<T>;
}

/** The HTTP status of a failed call, if any. */
export function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

/**
 * What the browser sends for a passphrase, as the stack's login page (src/auth/login-page.ts DERIVE_JS, Bitwarden's master
 * password hash): PBKDF2-SHA256(PBKDF2-SHA256(password, salt, iterations), password, 1), base64.
 */
export async function derivePassphrase(password: string, salt: string, iterations: number): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(password), 'PBKDF2', false, ['deriveBits']);
  const master = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc.encode(salt), iterations }, key, 256);
  const key2 = await crypto.subtle.importKey('raw', master, 'PBKDF2', false, ['deriveBits']);
  const hash = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc.encode(password), iterations: 1 }, key2, 256);
  return btoa(String.fromCharCode(...new Uint8Array(hash)));
}

/** The passphrase's KDF parameters (GET /settings/passphrase), then the derived value. */
export async function derived(client: AppClient, password: string): Promise<{ value: string; iterations: number }> {
  const p = await api<{ salt: string; iterations: number }>(client, 'GET', '/settings/passphrase');
  return { value: await derivePassphrase(password, p.salt, p.iterations), iterations: p.iterations };
}

/** 0 (too short) to 4 (strong): length, and variety of characters or several words; a rough guide shown while typing. */
export function strength(pw: string): number {
  if (pw.length < 8) return 0;
  const kinds = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(pw)).length;
  const words = pw.trim().split(/\s+/).length;
  const score = (pw.length >= 12 ? 1 : 0) + (pw.length >= 16 ? 1 : 0) + (pw.length >= 24 ? 1 : 0) + (kinds >= 3 || words >= 3 ? 1 : 0);
  return Math.max(1, Math.min(4, score));
}

/** A User-Agent in words: browser and system (`Firefox`, `Linux`), either null when unknown. */
export function deviceOf(ua: string | null): { browser: string | null; os: string | null } {
  if (!ua) return { browser: null, os: null };
  const browser = /Edg\//.test(ua) ? 'Edge' : /OPR\//.test(ua) ? 'Opera' : /Firefox\//.test(ua) ? 'Firefox' : /Chromium\//.test(ua) ? 'Chromium'
    : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : /^curl\//.test(ua) ? 'curl' : null;
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad|iPod/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows' : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
    : /CrOS/.test(ua) ? 'ChromeOS' : /Linux|X11/.test(ua) ? 'Linux' : null;
  return { browser, os };
}

/** Copies to the clipboard and says so (or says how to copy by hand). */
export async function copyText(text: string, toast: { show(text: string, opts?: { kind?: 'info' | 'error' }): void }, t: (k: string) => string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    toast.show(t('common.copied'));
  } catch {
    toast.show(t('common.copy.failed'), { kind: 'error' });
  }
}
