/** A thin client of the admin API (HTTP Basic with user "admin"). */
import type { Command } from 'commander';
import { adminUrlOf } from '../config/admin-url.js';
import { loadConfig } from '../config/load.js';
import { DEFAULTS } from '../config/schema.js';
import type { HearthConfig } from '../config/types.js';
import { CliError } from './io.js';

export const DEFAULT_ADMIN_URL = adminUrlOf(DEFAULTS);
export const CONFIG_OPTION = ['--config <file>', 'YAML configuration file (env HEARTH_CONFIG, default ./hearth.yaml if present)'] as const;

export interface AdminOptions {
  adminUrl?: string;
  adminPassphrase?: string;
  config?: string;
}

/** Adds --admin-url, --admin-passphrase and --config to a command that talks to the admin API. */
export function withAdminOptions(cmd: Command): Command {
  return cmd
    .option('--admin-url <url>', 'admin API base URL (env HEARTH_ADMIN_URL; default: admin.host and admin.port of the configuration, as `hearth serve` reads it)')
    .option('--admin-passphrase <passphrase>', 'admin passphrase (env HEARTH_ADMIN_PASSPHRASE, or admin.passphrase of the configuration)')
    .option(...CONFIG_OPTION);
}

/** The admin API did not answer (nothing listens there, or the network failed). */
export class Unreachable extends CliError {
  constructor(baseUrl: string, e: unknown) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    super(`cannot reach the admin API at ${baseUrl}${code ? ` (${code})` : ''}: is \`hearth serve\` running?`, 1);
  }
}

export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly passphrase: string | null,
  ) {}

  /** --admin-url, else HEARTH_ADMIN_URL, else the configuration `hearth serve` loads (file, HEARTH_* variables). */
  static from(opts: AdminOptions, env: Record<string, string | undefined>): AdminClient {
    const explicitUrl = opts.adminUrl ?? (env.HEARTH_ADMIN_URL || undefined);
    const explicitPass = opts.adminPassphrase ?? (env.HEARTH_ADMIN_PASSPHRASE || undefined);
    const config = explicitUrl === undefined || explicitPass === undefined ? loadConfig({ flags: { config: opts.config }, env }) : null;
    const url = explicitUrl ?? adminUrlOf(config as HearthConfig);
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new CliError(`invalid admin API URL "${url}": expected e.g. ${DEFAULT_ADMIN_URL}`, 2);
    }
    return new AdminClient(url.replace(/\/+$/, ''), explicitPass ?? config?.admin.passphrase ?? null);
  }

  /** Calls the admin API; a status outside `accept` (default 2xx) becomes a CliError with the server's message. */
  async request<T>(method: string, path: string, body?: unknown, opts: { accept?: number[]; timeoutMs?: number } = {}): Promise<{ status: number; data: T }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.passphrase !== null) headers.authorization = 'Basic ' + Buffer.from(`admin:${this.passphrase}`).toString('base64');
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined,
      });
    } catch (e) {
      throw new Unreachable(this.baseUrl, e);
    }
    const text = await res.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    const ok = opts.accept ? opts.accept.includes(res.status) : res.ok;
    if (!ok) throw new CliError(this.errorMessage(res, data), 1);
    return { status: res.status, data: data as T };
  }

  /** A raw answer (a download): its body is the caller's to read; an error status becomes a CliError with the server's message. */
  async download(path: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.passphrase !== null) headers.authorization = 'Basic ' + Buffer.from(`admin:${this.passphrase}`).toString('base64');
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, { headers });
    } catch (e) {
      throw new Unreachable(this.baseUrl, e);
    }
    if (!res.ok || !res.body) {
      const text = await res.text();
      throw new CliError(this.errorMessage(res, (() => { try { return JSON.parse(text) as unknown; } catch { return text; } })()), 1);
    }
    return res;
  }

  /** Reads an NDJSON answer line by line as it comes (a job's events, an install's progress), until the server ends it. */
  async stream(path: string, onLine: (line: string) => void, method = 'GET'): Promise<void> {
    const headers: Record<string, string> = { accept: 'application/x-ndjson' };
    if (this.passphrase !== null) headers.authorization = 'Basic ' + Buffer.from(`admin:${this.passphrase}`).toString('base64');
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, { method, headers });
    } catch (e) {
      throw new Unreachable(this.baseUrl, e);
    }
    if (!res.ok || !res.body) {
      const text = await res.text();
      let data: unknown = text;
      try {
        data = JSON.parse(text);
      } catch {
        // not JSON: the text is the message
      }
      throw new CliError(this.errorMessage(res, data), 1);
    }
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim()) onLine(line);
      }
    }
    if (buffered.trim()) onLine(buffered);
  }

  private errorMessage(res: Response, data: unknown): string {
    const d = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    const first = Array.isArray(d.errors) ? (d.errors[0] as Record<string, unknown> | undefined) : undefined;
    const candidates = [d.reason, d.message, first?.detail, first?.title, d.error, data];
    const msg = candidates.find((v): v is string => typeof v === 'string' && v !== '') ?? res.statusText;
    let text = `${msg} (HTTP ${res.status})`;
    if (res.status === 401 && this.passphrase === null) text += '\nhint: set HEARTH_ADMIN_PASSPHRASE or pass --admin-passphrase';
    return text;
  }
}
