/**
 * What the daemon loads at start, from the module graph `deno info --json`
 * gives: the modules reached from `src/cli/serve.ts` and from the shard
 * worker by static imports (what runs at start whatever the configuration),
 * and the parts a configuration may not use reached only by dynamic imports
 * with a literal specifier (so `deno compile` and `deno bundle` still carry
 * them; docs/scaling.md, "ninth round (lean)").
 */
import assert from "node:assert/strict";
import { ROOT } from "../e2e/_daemon.ts";

interface Dependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface Module {
  specifier: string;
  kind?: string;
  npmPackage?: string;
  dependencies?: Dependency[];
}

/** The modules `entry` reaches: by static imports only, or by dynamic ones too. */
async function reached(
  entry: string,
  dynamic: boolean,
): Promise<{ files: string[]; npm: string[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: Module[];
    redirects: Record<string, string>;
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const files = new Set<string>(), npm = new Set<string>();
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    const s = info.redirects[specifier] ?? specifier;
    if (seen.has(s)) return;
    seen.add(s);
    const m = modules.get(s);
    if (m === undefined) return;
    if (m.kind === "npm") {
      npm.add(m.npmPackage!.replace(/(.)@.*$/, "$1"));
      return;
    }
    if (s.startsWith("file://")) files.add(s.slice(`file://${ROOT}`.length));
    for (const d of m.dependencies ?? []) {
      if (d.code && (dynamic || !d.isDynamic)) visit(d.code.specifier);
    }
  };
  visit(info.roots[0]);
  return { files: [...files].sort(), npm: [...npm].sort() };
}

Deno.test("serve loads at start the API's packages only: the broker, MQTT.js, ws, the pages' files and the engine when used", async () => {
  const start = await reached("src/cli/serve.ts", false);
  assert.deepEqual(start.npm, ["@hono/node-server", "@hono/zod-openapi", "hono", "zod"]);
  for (
    const lazy of [
      "src/dashboard/assets.ts", // the pages' files: at the first request for one
      "src/ingest/broker.ts", // Aedes: without --mqtt-url
      "src/ingest/mqtt_source.ts", // MQTT.js: with --mqtt-url
      "src/ingest/demo_source.ts", // the demo sensor: with --demo
      "src/service/service.ts", // the engine on the main thread: with --workers 0
      "src/stream/engine.ts",
    ]
  ) assert.ok(!start.files.includes(lazy), `${lazy} is not loaded at start`);

  // each is one dynamic import with a literal specifier away: compile and bundle carry it
  const all = await reached("src/cli/serve.ts", true);
  for (const p of ["aedes", "mqtt", "ws", "swagger-ui-dist", "uplot"]) {
    assert.ok(all.npm.includes(p), `${p} is in the graph`);
  }
  for (const f of ["src/dashboard/assets.ts", "src/service/service.ts", "src/stream/engine.ts"]) {
    assert.ok(all.files.includes(f), `${f} is in the graph`);
  }
});

Deno.test("a shard worker loads the engine, the store and the protocol: no npm package, no API", async () => {
  const worker = await reached("src/shard/shard_worker.ts", true);
  assert.deepEqual(worker.npm, []);
  const outside = worker.files.filter((f) =>
    !/^src\/(shard|service|stream|model|store|domain|async)\/|^src\/log\.ts$|^models\//.test(f) &&
    f !== "src/ingest/ingest_sink.ts"
  );
  assert.deepEqual(outside, [], "only the engine's, the store's and the protocol's modules");
});
