/**
 * The data directory: created on demand, and owned by one process at a time
 * through an exclusive lock on `<dataDir>/forecastd.lock`.
 *
 * The daemon holds the lock while it runs; `forecastd import` takes it to be
 * sure no daemon is writing the same KV file. The operating system releases
 * the lock when the process ends, however it ends (SIGKILL included), so a
 * crash never leaves a stale lock behind. The file holds the owner's pid, for
 * the message a second process gets.
 */
import { join } from "node:path";

/** The lock file of a data directory. */
export function lockPath(dataDir: string): string {
  return join(dataDir, "forecastd.lock");
}

/** Another process holds the data directory. */
export class DataDirBusyError extends Error {
  override name = "DataDirBusyError";
  /** The owner's pid as it wrote it, or null when unreadable. */
  readonly pid: number | null;
  constructor(message: string, pid: number | null) {
    super(message);
    this.pid = pid;
  }
}

/** A held data directory lock. */
export interface DataDirLock {
  readonly path: string;
  /** Releases the lock (the file stays). Safe to call twice. */
  release(): void;
}

/**
 * Creates `dataDir` (and its parents) and takes its lock without waiting.
 * Throws DataDirBusyError naming the owner's pid when another process holds
 * it; `action` starts the message (`Cannot start forecastd`).
 */
export async function lockDataDir(dataDir: string, action: string): Promise<DataDirLock> {
  await Deno.mkdir(dataDir, { recursive: true });
  const path = lockPath(dataDir);
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let locked = false;
  try {
    locked = await file.tryLock(true);
    if (!locked) {
      const text = new TextDecoder().decode(await readAll(file)).trim();
      const pid = /^\d+$/.test(text) ? Number(text) : null;
      throw new DataDirBusyError(
        `${action}: data directory ${JSON.stringify(dataDir)} must not be in use by another ` +
          `forecastd: ${path} is locked by pid ${pid ?? "unknown"} (stop that process first, ` +
          `or use another --data-dir)`,
        pid,
      );
    }
    await file.truncate(0);
    await file.seek(0, Deno.SeekMode.Start);
    await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  } catch (e) {
    if (locked) await file.unlock().catch(() => {});
    file.close();
    throw e;
  }
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      try {
        file.unlockSync();
      } finally {
        file.close();
      }
    },
  };
}

async function readAll(file: Deno.FsFile): Promise<Uint8Array> {
  await file.seek(0, Deno.SeekMode.Start);
  const buf = new Uint8Array(64);
  const n = await file.read(buf);
  return buf.subarray(0, n ?? 0);
}
