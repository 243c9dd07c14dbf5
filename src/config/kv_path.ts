/** Where the daemon's Deno KV file lives in its data directory. */
import { join } from "node:path";
import type { Config } from "./schema.ts";

/** Where the Deno KV file of `config` lives: `<dataDir>/forecastd.kv`. */
export function kvPath(config: Pick<Config, "dataDir">): string {
  return join(config.dataDir, "forecastd.kv");
}
