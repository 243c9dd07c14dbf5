/**
 * Proof that a change left forecastd's results alone: replays the ETT files
 * under the published protocol and every NAB series, as BENCHMARKS.md does,
 * and compares a SHA-256 of each result with bench/identity_baseline.json.
 *
 *   deno run --allow-run --allow-read --allow-write=/tmp bench/identity.ts
 *   deno run --allow-run --allow-read --allow-write=/tmp,bench bench/identity.ts --write=true
 *
 * The replay JSON is hashed without its timings (`seconds`,
 * `observeSeconds`, `readingsPerSecond`) and the input's time format
 * (`timeForm`, `timeFormDetected`); the `--anomaly-out` CSVs are hashed
 * as written. Prints one line per result (same, changed, or new) and exits 1
 * when any differs. The baseline was written by issue 11's code (the held
 * ridge, the shape detector, the false-alarm budget; ETT 4 commands, NAB 24
 * files; 1.5 minutes on 2 idle cores, 13.5 on a loaded machine). Needs
 * ../shared/data.
 *
 * The replays run the TypeScript kernels (`--kernels ts`), the oracle the
 * baseline was written with: the WebAssembly kernels (the default) give the
 * same results within float32 rounding but not to the bit, and their
 * rounding may differ between CPUs (a fused multiply-add or not), so a hash
 * of their results would not be a baseline every machine shares.
 */
import { exitOnFlagError, oneOf, parseFlags } from "./args.ts";

const flags = exitOnFlagError(() =>
  parseFlags(Deno.args, { write: oneOf(["true", "false"], "false") }, "Cannot check identity")
);
const ROOT = new URL("../", import.meta.url).pathname;
const DATA = "../shared/data";
const BASELINE = new URL("./identity_baseline.json", import.meta.url);

try {
  Deno.statSync(`${ROOT}${DATA}/nab/windows.json`);
} catch {
  console.error(`skipped: ${DATA} is missing (the ETT and NAB files this check replays)`);
  Deno.exit(0);
}

async function replay(args: string[]): Promise<string> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "main.ts",
      "replay",
      "--kernels",
      "ts",
      ...args,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const out = await cmd.output();
  if (!out.success) {
    throw new Error(`replay ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Left out of the hash: the timings, and the fields that describe how the
 * input's times were read (`timeForm`, `timeFormDetected`, added to the
 * replay's report after the baseline), none of them a result of the engine.
 */
const TIMINGS = new Set([
  "seconds",
  "observeSeconds",
  "readingsPerSecond",
  "timeForm",
  "timeFormDetected",
]);

/** The replay JSON without its timings and input description, as the hashed text. */
function withoutTimings(json: string): string {
  return JSON.stringify(JSON.parse(json), (k, v) => (TIMINGS.has(k) ? undefined : v));
}

const jobs: { name: string; run: () => Promise<string> }[] = [];
for (
  const [file, preset] of [
    ["ETTh2", null],
    ["ETTm1", null],
    ["ETTh2", "hourly"],
    ["ETTm1", "quarter-hourly"],
  ] as const
) {
  const args = [`${DATA}/ett/${file}.csv`, "--protocol", "fsnet", "--horizons", "1,24,48"];
  if (preset) args.push("--preset", preset);
  args.push("--json");
  jobs.push({
    name: `ett ${file} ${preset ?? "default"}`,
    run: async () => sha256(new TextEncoder().encode(withoutTimings(await replay(args)))),
  });
}
const tmp = await Deno.makeTempDir({ prefix: "forecastd-identity-" });
for (const fam of [...Deno.readDirSync(`${ROOT}${DATA}/nab`)].filter((e) => e.isDirectory)) {
  for (const f of Deno.readDirSync(`${ROOT}${DATA}/nab/${fam.name}`)) {
    if (!f.name.endsWith(".csv")) continue;
    const out = `${tmp}/${fam.name}_${f.name}`;
    jobs.push({
      name: `nab ${fam.name}/${f.name}`,
      run: async () => {
        await replay([`${DATA}/nab/${fam.name}/${f.name}`, "--anomaly-out", out]);
        return sha256(await Deno.readFile(out));
      },
    });
  }
}
jobs.sort((a, b) => a.name.localeCompare(b.name));

// two at a time: one per core
const results: Record<string, string> = {};
let next = 0;
await Promise.all([0, 1].map(async () => {
  while (next < jobs.length) {
    const job = jobs[next++];
    results[job.name] = await job.run();
  }
}));
await Deno.remove(tmp, { recursive: true });

const sorted = Object.fromEntries(Object.entries(results).sort(([a], [b]) => a.localeCompare(b)));
if (flags.write === "true") {
  await Deno.writeTextFile(BASELINE, JSON.stringify(sorted, null, 2) + "\n");
  console.log(`wrote ${Object.keys(sorted).length} hashes to bench/identity_baseline.json`);
  Deno.exit(0);
}
const baseline: Record<string, string> = JSON.parse(await Deno.readTextFile(BASELINE));
let differ = 0;
for (const [name, hash] of Object.entries(sorted)) {
  const was = baseline[name];
  const verdict = was === undefined ? "new" : was === hash ? "same" : "changed";
  if (verdict !== "same") differ++;
  console.log(`${verdict.padEnd(7)} ${name}`);
}
for (const name of Object.keys(baseline)) {
  if (!(name in sorted)) {
    differ++;
    console.log(`missing ${name}`);
  }
}
console.log(
  differ === 0 ? "identical to the baseline" : `${differ} results differ from the baseline`,
);
Deno.exit(differ === 0 ? 0 : 1);
