/**
 * A folder copy that tells its progress: `POST /files/:id/copy` with `Accept: application/x-ndjson` (Hearth's), whose
 * answer is NDJSON lines, progress first, then the copy or the error (src/files/http/copy-progress.ts). Aborting the
 * signal ends the request, and the stack removes what it had copied. A failure is thrown as cozy-client's are
 * (`status`, the stack's words in `reason.errors[0].detail`), so that describeError says it.
 */
export interface CopyProgress { files: number; bytes: number; total_files: number; total_bytes: number }

interface Line { type: string; status?: number; error?: string; files?: number; bytes?: number; total_files?: number; total_bytes?: number }

class CopyError extends Error {
  constructor(readonly status: number | undefined, detail: string) {
    super(detail);
    (this as unknown as { reason: unknown }).reason = { errors: [{ detail }] };
  }
}

async function failure(res: Response): Promise<CopyError> {
  const body = await res.json().catch(() => null) as { errors?: { detail?: string }[] } | null;
  return new CopyError(res.status, body?.errors?.[0]?.detail ?? res.statusText);
}

export async function copyFolderWithProgress(o: { origin: string; token: string; path: string; signal: AbortSignal; onProgress(p: CopyProgress): void }): Promise<void> {
  const res = await fetch(`${o.origin}${o.path}`, { method: 'POST', credentials: 'include', headers: { Authorization: `Bearer ${o.token}`, Accept: 'application/x-ndjson' }, signal: o.signal });
  if (!res.ok || !res.body) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = JSON.parse(buf.slice(0, i)) as Line;
      buf = buf.slice(i + 1);
      if (line.type === 'progress') o.onProgress(line as CopyProgress);
      else if (line.type === 'error') throw new CopyError(line.status, line.error ?? '');
      else if (line.type === 'done') return;
    }
  }
  throw new CopyError(undefined, 'the copy ended before it said it was done');
}
