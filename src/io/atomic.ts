// Atomic file replacement: write a temp file in the target's folder, fsync it,
// rename it over the target, fsync the folder. A crash or an error at any
// point leaves either the old file or the new one, never a mix.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';

/** Writes `chunks` (in order) to `path` atomically. A chunk source that throws leaves `path` untouched. */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array> | string): void {
  const target = resolve(path);
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, 'wx');
  } catch (e) {
    throw new Error(`cannot write ${target}: ${(e as Error).message}`);
  }
  let open = true;
  try {
    for (const chunk of typeof chunks === 'string' ? [Buffer.from(chunks, 'utf8')] : chunks) {
      // writeSync may write less than asked (e.g. large buffers): loop until done.
      for (let done = 0; done < chunk.byteLength;) done += writeSync(fd, chunk, done, chunk.byteLength - done);
    }
    fsyncSync(fd);
    open = false;
    closeSync(fd);
    renameSync(temp, target);
  } catch (e) {
    if (open) closeSync(fd);
    unlinkSync(temp);
    throw new Error(`cannot write ${target}: ${(e as Error).message}`);
  }
  // Make the rename itself durable. Windows cannot open a folder for fsync.
  if (process.platform !== 'win32') {
    const dirFd = openSync(dir, 'r');
    try { fsyncSync(dirFd); } finally { closeSync(dirFd); }
  }
}
