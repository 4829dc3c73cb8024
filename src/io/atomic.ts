// Atomic file replacement: write a temp file in the target's folder, fsync it,
// rename it over the target, fsync the folder. A crash or an error at any
// point leaves either the old file or the new one, never a mix.

import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';

/** The temp file a write of `target` by process `pid` uses: `.name.<pid>.<random>.tmp` beside it. */
function tempName(target: string, pid: number): string {
  return join(dirname(target), `.${basename(target)}.${pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Removes the temp files that interrupted writes of `path` left behind (the writer was killed
 * between creating and renaming it). A temp file of a live process is a write in progress and
 * stays; this process's own are stale, since writeFileAtomic never returns with one open.
 */
export function removeStaleTempFiles(path: string): void {
  const target = resolve(path);
  const prefix = `.${basename(target)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return; // no folder: nothing to clean
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    try { unlinkSync(join(dirname(target), name)); } catch { /* removed by another cleaner */ }
  }
}

/**
 * Writes `chunks` (in order) to `path` atomically. A chunk source that throws leaves `path` untouched.
 * Temp files of earlier interrupted writes of `path` are removed first.
 */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array> | string): void {
  const target = resolve(path);
  const dir = dirname(target);
  removeStaleTempFiles(target);
  const temp = tempName(target, process.pid);
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
