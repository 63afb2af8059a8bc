/** fsync of a file or a folder by its path (a folder's fsync makes the names created in it durable). */
import { open } from 'node:fs/promises';

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
