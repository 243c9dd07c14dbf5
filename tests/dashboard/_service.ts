/**
 * The one place the dashboard's tests build a Service (a `:memory:` KV,
 * checkpoints far apart), so that a change of its constructor is one edit.
 */
import { Service } from "../../src/service/service.ts";
import { Store } from "../../src/store/store.ts";
import type { Logger } from "../../src/log.ts";

/** A Service over `kv`. */
export function openService(kv: Deno.Kv, log: Logger): Service {
  return new Service({ store: new Store(kv), log, options: { checkpointSeconds: 3600 } });
}
