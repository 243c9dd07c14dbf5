/** Where the daemon's Deno KV lives: a KV Connect URL, or a file in its data directory. */
import { join } from "node:path";
import type { Config } from "./schema.ts";

/**
 * What `Deno.openKv()` opens for `config`: its `kvUrl` (a KV Connect server)
 * when set, else the file `<dataDir>/forecastd.kv`.
 */
export function kvPath(config: Pick<Config, "dataDir"> & Partial<Pick<Config, "kvUrl">>): string {
  return config.kvUrl ?? join(config.dataDir, "forecastd.kv");
}

/** True when `config` keeps its KV on a KV Connect server, not in a local file. */
export function kvIsRemote(config: Partial<Pick<Config, "kvUrl">>): boolean {
  return config.kvUrl != null;
}
