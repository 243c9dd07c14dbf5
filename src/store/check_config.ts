import { showValue } from "../domain/show_value.ts";
import { valueBytes } from "./commit_batcher.ts";

/**
 * Throws unless `config` is a value Deno KV can hold in one entry: not
 * null or undefined, at most `maxBytes` serialised. `action` begins the
 * message ("store stream", "save checkpoint of stream").
 */
export function checkConfig(id: string, config: unknown, maxBytes: number, action: string): void {
  if (config === undefined || config === null) {
    throw new TypeError(
      `Cannot ${action} "${id}": config must be a value: current value is ${showValue(config)}`,
    );
  }
  const size = valueBytes(config);
  if (size > maxBytes) {
    throw new RangeError(
      `Cannot ${action} "${id}": config must serialise to at most ${maxBytes} bytes: current size is ${size}`,
    );
  }
}
