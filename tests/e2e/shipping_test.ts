/**
 * What can be checked here of the single binary and the Raspberry Pi build
 * (`deno compile` itself downloads Deno's runtime, which this machine cannot
 * reach): every module and asset is statically importable, so a bundle of
 * main.ts serves and ingests with an empty DENO_DIR, on the WebAssembly
 * kernels; and the arm64 Deno runs that bundle under qemu-aarch64-static.
 */
import assert from "node:assert/strict";
import { getJson, ROOT, startDaemon, withTempDir } from "./_daemon.ts";

/** Bundles main.ts into dir/forecastd.js. */
async function bundle(dir: string): Promise<string> {
  const out = `${dir}/forecastd.js`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform", "deno", "-o", out, "main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  return out;
}

/** Runs the bundle with `deno` (the given one) and an empty DENO_DIR; ingests and forecasts. */
async function serveBundle(dir: string, deno: string[], startMs: number) {
  const js = await bundle(dir);
  const denoDir = `${dir}/deno-dir`;
  await Deno.mkdir(denoDir);
  const data = `${dir}/data`;
  const d = await startDaemon({
    dataDir: data,
    startMs,
    program: {
      cmd: deno[0],
      args: [
        ...deno.slice(1),
        "run",
        "--unstable-kv",
        "--allow-net=127.0.0.1",
        "--allow-env",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        js,
      ],
    },
    env: { DENO_DIR: denoDir },
  });
  try {
    // the WebAssembly kernels come with the bundle (a module of the graph, no file read)
    const starting = d.log.find((e) => e.event === "forecastd.starting");
    assert.equal(starting?.kernels, "wasm", JSON.stringify(starting));
    // a bundle holds no worker module: the streams run on the main thread, and it says so
    assert.ok(
      d.log.some((e) => e.event === "shard.disabled" && /bundle/.test(String(e.message))),
      "shard.disabled is logged, naming the bundle",
    );
    const readings = Array.from({ length: 30 }, (_, i) => ({
      ts: Date.UTC(2025, 5, 2) + i * 300_000,
      value: 21 + Math.sin(i / 5),
    }));
    const res = await fetch(`${d.http}/v1/streams/kitchen/readings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(readings),
    });
    assert.deepEqual(await res.json(), { accepted: 30, rejected: [] });
    const f = await getJson<{ timestamps: string[]; targets: { value: { point: number[] } } }>(
      `${d.http}/v1/streams/kitchen/forecast?horizon=3`,
    );
    assert.equal(f.timestamps[0], new Date(Date.UTC(2025, 5, 2) + 30 * 300_000).toISOString());
    assert.equal(f.targets.value.point.length, 3);
    assert.ok(f.targets.value.point.every(Number.isFinite));
    // what the daemon loads at first use is in the bundle: the pages' files, ws
    for (const [path, size] of [["/", 1_000], ["/docs/swagger-ui-bundle.js", 1_000_000]] as const) {
      const page = await fetch(`${d.http}${path}`);
      assert.equal(page.status, 200, path);
      assert.ok((await page.text()).length > size, `${path} is served whole`);
    }
    const ws = new WebSocket(`${d.http.replace("http:", "ws:")}/v1/alerts/ws`);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error("the WebSocket did not open"));
    });
    const closed = new Promise((resolve) => ws.onclose = resolve);
    ws.close();
    await closed;
  } finally {
    const status = await d.stop("SIGTERM");
    assert.equal(status.code, 0);
  }
  // nothing was fetched: the bundle holds every module
  const fetched = [];
  for await (const e of Deno.readDir(denoDir)) {
    if (e.name === "npm" || e.name === "remote" || e.name === "deps") {
      for await (const f of Deno.readDir(`${denoDir}/${e.name}`)) {
        fetched.push(`${e.name}/${f.name}`);
      }
    }
  }
  assert.deepEqual(fetched, []);
}

Deno.test("a bundle of main.ts serves and ingests with an empty DENO_DIR", async () => {
  await withTempDir((dir) => serveBundle(dir, [Deno.execPath()], 15_000));
});

/**
 * The qemu user-mode emulator and the arm64 Deno, or why the test cannot run.
 * (The variable is not FORECASTD_*: the daemon refuses unknown ones of those.)
 */
function arm64(): { qemu: string; deno: string } | string {
  const deno = Deno.env.get("DENO_ARM64");
  if (!deno) {
    return "DENO_ARM64 is not set (.ci/run sets it to the Deno of npm's @deno/linux-arm64-glibc)";
  }
  try {
    Deno.statSync(deno);
  } catch {
    return `DENO_ARM64 names no file: ${deno}`;
  }
  try {
    const r = new Deno.Command("qemu-aarch64-static", { args: ["--version"], stdout: "null" })
      .outputSync();
    if (r.success) return { qemu: "qemu-aarch64-static", deno };
  } catch { /* not installed */ }
  return "qemu-aarch64-static is not installed (Debian qemu-user-static)";
}

const target = arm64();
Deno.test({
  name: "the arm64 Deno runs the daemon under qemu-aarch64-static: it serves and ingests",
  ignore: typeof target === "string",
  async fn() {
    const t = target as { qemu: string; deno: string };
    const prefix = "/usr/aarch64-linux-gnu"; // Debian libc6-arm64-cross
    await withTempDir((dir) => serveBundle(dir, [t.qemu, "-L", prefix, t.deno], 120_000));
  },
});
if (typeof target === "string") {
  console.warn(`skipping the arm64 test: ${target}`);
}
