/**
 * Whether stdout is where the log goes (src/log.ts): the daemon leaves its
 * start-up lines out of a JSON log. Apart from the logger so that what loads
 * the logger (a shard worker) does not load node:fs.
 */
import { fstatSync } from "node:fs";

/**
 * Whether stdout is where the log goes and not a terminal: the same pipe or
 * file as stderr (`forecastd 2>&1 | jq`, journald's stream). Lines printed
 * there would be read as log lines.
 */
export function stdoutIsLog(): boolean {
  if (Deno.stdout.isTerminal()) return false;
  try {
    const out = fstatSync(1), err = fstatSync(2);
    return out.dev === err.dev && out.ino === err.ino;
  } catch {
    return false;
  }
}
