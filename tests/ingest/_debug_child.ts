/**
 * A process that loads the embedded broker as the daemon does, for
 * quiet_debug_test.ts: if the `debug` package was loaded, it turns
 * mqtt-packet's namespaces on at run time, as a library could, then has
 * mqtt-packet parse a PUBACK and write one; whatever `debug` prints goes to
 * stderr.
 *
 * `deno run --allow-env tests/ingest/_debug_child.ts`
 */
import "../../src/ingest/broker.ts";
import Module from "node:module";
import { Buffer } from "node:buffer";
import { Writable } from "node:stream";
import mqttPacket from "mqtt-packet";

// the `debug` package (debug/<version>/src/node.js in Deno's cache), if some package loaded it, from node:module's cache of CommonJS modules
const cache = (Module as unknown as { _cache: Record<string, { exports: unknown }> })._cache;
const path = Object.keys(cache).find((p) =>
  /[\\/]debug[\\/](?:[^\\/]+[\\/])?src[\\/]node\.js$/.test(p)
);
const realDebug = path === undefined
  ? undefined
  : cache[path].exports as { enable(namespaces: string): void };
realDebug?.enable("mqtt-packet:*");
const parser = mqttPacket.parser();
let packets = 0;
parser.on("packet", () => packets++);
parser.parse(Buffer.from([0x40, 2, 0, 7]));
mqttPacket.writeToStream(
  { cmd: "puback", messageId: 7 },
  new Writable({ write: (_chunk, _encoding, done) => done() }),
  { protocolVersion: 4 },
);
console.log(JSON.stringify({ packets, realDebug: realDebug !== undefined }));
