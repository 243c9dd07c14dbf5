/**
 * What loading modules costs an idle process: for each argument (a module
 * of the repository, an npm package of deno.json's imports, a `node:`
 * module, or several joined by `+`), a fresh `deno run` imports it and,
 * 3 s later, prints its resident set and its V8 heap (used, total, code and
 * bytecode) beside those of an empty module; `--worker` imports it in one
 * Web Worker instead and reads that isolate's heap (the RSS is then the
 * process's: the main isolate's and the worker's). Every run takes
 * `--v8-flags` (default the daemon's `--optimize-for-size`).
 *
 *   deno run --allow-run --allow-read --allow-write=/tmp bench/module_cost.ts \
 *     zod @hono/zod-openapi aedes mqtt ws ./src/dashboard/assets.ts ./src/cli/serve.ts
 *   deno run --allow-run --allow-read --allow-write=/tmp bench/module_cost.ts --worker \
 *     ./src/shard/shard_worker.ts ./src/stream/engine.ts node:os
 *
 * docs/scaling.md, "The empty daemon, ninth round (lean)", has its figures.
 */
import { loadavg } from "./proc_stats.ts";

const ROOT = new URL("../", import.meta.url);
const args = Deno.args.filter((a) => !a.startsWith("--"));
const worker = Deno.args.includes("--worker");
const flags = Deno.args.find((a) => a.startsWith("--v8-flags="))?.slice(11) ??
  "--optimize-for-size";

/** The import of one argument, from a file in /tmp. */
function importLine(spec: string): string {
  const s = spec.startsWith("./") ? new URL(spec, ROOT).href : spec;
  return `import ${JSON.stringify(s)};\n`;
}

const REPORT = `import * as v8 from "node:v8";
const mib = (n) => Math.round(n / 2 ** 20 * 10) / 10;
setTimeout(() => {
  const h = v8.getHeapStatistics(), c = v8.getHeapCodeStatistics();
  const rss = Number(Deno.readTextFileSync("/proc/self/status").match(/VmRSS:\\s+(\\d+)/)[1]) / 1024;
  console.log(JSON.stringify({ rssMiB: Math.round(rss), heapUsedMiB: mib(h.used_heap_size),
    heapTotalMiB: mib(h.total_heap_size), codeMiB: mib(c.code_and_metadata_size),
    bytecodeMiB: mib(c.bytecode_and_metadata_size) }));
  if (typeof self.close === "function" && self.name === "probe") self.close();
}, 3000);
`;

async function probe(spec: string): Promise<Record<string, number>> {
  const dir = await Deno.makeTempDir({ prefix: "module-cost-" });
  try {
    const imports = spec === "" ? "" : spec.split("+").map(importLine).join("");
    await Deno.writeTextFile(`${dir}/probe.js`, imports + REPORT);
    let main = `${dir}/probe.js`;
    if (worker) {
      main = `${dir}/main.js`;
      await Deno.writeTextFile(
        main,
        `new Worker(new URL("./probe.js", import.meta.url), { type: "module", name: "probe" });\n` +
          `setTimeout(() => Deno.exit(0), 4500);\n`,
      );
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--v8-flags=${flags}`,
        "-A",
        "--config",
        new URL("deno.json", ROOT).pathname,
        main,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    if (!out.success || text === "") throw new Error(new TextDecoder().decode(out.stderr));
    return JSON.parse(text.split("\n").at(-1)!);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

console.log(`# ${worker ? "in a worker" : "main thread"}, --v8-flags=${flags}, load ${loadavg()}`);
const empty = await probe("");
console.log(`RESULT ${JSON.stringify({ module: "(empty)", ...empty })}`);
for (const spec of args) {
  const r = await probe(spec);
  const over = Object.fromEntries(
    Object.entries(r).map(([k, v]) => [k, Math.round((v - empty[k]) * 10) / 10]),
  );
  console.log(`RESULT ${JSON.stringify({ module: spec, ...r, overEmpty: over })}`);
}
