/**
 * What the person gave to upload, as files with the folder they sit in (relative, '' at the top): from a file input
 * (`webkitRelativePath` for a folder picked with `webkitdirectory`) or from a drop, walking the dropped folders with
 * DataTransferItem.webkitGetAsEntry.
 */
export interface Picked { file: File; folder: string }

const dirname = (rel: string): string => rel.split('/').slice(0, -1).join('/');

export function fromInput(files: FileList | null): Picked[] {
  return [...(files ?? [])].map((file) => ({ file, folder: dirname(file.webkitRelativePath || '') }));
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((done, fail) => {
    const out: FileSystemEntry[] = [];
    const more = () => reader.readEntries((batch) => {
      if (batch.length === 0) done(out);
      else { out.push(...batch); more(); }
    }, fail);
    more();
  });
}

async function walk(entry: FileSystemEntry, folder: string, out: Picked[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((done, fail) => (entry as FileSystemFileEntry).file(done, fail));
    out.push({ file, folder });
  } else if (entry.isDirectory) {
    const here = folder ? `${folder}/${entry.name}` : entry.name;
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, here, out);
  }
}

/** The files of a drop, folders walked; `null` when the drop carries no files (rows being moved, text). */
export async function fromDrop(dt: DataTransfer): Promise<Picked[] | null> {
  if (!dt.types.includes('Files')) return null;
  // the entries must be taken before the first await: the DataTransfer empties once the event is over
  const entries = [...dt.items].filter((i) => i.kind === 'file').map((i) => i.webkitGetAsEntry?.() ?? null);
  const files = [...dt.files];
  if (entries.length === 0 || entries.some((e) => e === null)) return files.map((file) => ({ file, folder: '' }));
  const out: Picked[] = [];
  for (const e of entries) if (e) await walk(e, '', out);
  return out;
}
