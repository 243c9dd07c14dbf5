/**
 * `serve --kv-url URL`: Deno KV is opened on that KV Connect server with the
 * token of DENO_KV_ACCESS_TOKEN, not in the data directory. A stand-in server
 * on 127.0.0.1 records the metadata exchange Deno starts with (a POST to the
 * URL with `Authorization: Bearer <token>`) and refuses it; the test then
 * ends the daemon by its pid. No real KV server is contacted.
 */
import assert from "node:assert/strict";
import { daemonPermissions, ROOT, WAIT_MS, withTempDir } from "./_daemon.ts";

Deno.test("serve --kv-url opens Deno KV on that URL with DENO_KV_ACCESS_TOKEN, not a file", async () => {
  await withTempDir(async (dir) => {
    const seen: { method: string; path: string; auth: string | null }[] = [];
    let heard!: () => void;
    const first = new Promise<void>((resolve) => heard = resolve);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        await req.body?.cancel();
        seen.push({
          method: req.method,
          path: new URL(req.url).pathname,
          auth: req.headers.get("authorization"),
        });
        heard();
        return new Response("not a KV Connect server", { status: 401 });
      },
    );
    const url = `http://127.0.0.1:${server.addr.port}/kv/db-1`;
    const dataDir = `${dir}/data`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...daemonPermissions(dataDir),
        "main.ts",
        "serve",
        "--port",
        "0",
        "--mqtt-port",
        "0",
        "--data-dir",
        dataDir,
        "--kv-url",
        url,
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      env: { NO_COLOR: "1", DENO_KV_ACCESS_TOKEN: "test-token-123" },
    }).spawn();
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        first,
        child.status.then((s) => {
          throw new Error(`the daemon exited (${s.code}) without contacting ${url}`);
        }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`nothing reached ${url}`)), WAIT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.deepEqual(seen[0], {
        method: "POST",
        path: "/kv/db-1",
        auth: "Bearer test-token-123",
      });
      // the KV lives on the server: no KV file in the data directory
      const files = [];
      for await (const e of Deno.readDir(dataDir)) files.push(e.name);
      assert.ok(!files.some((f) => f.startsWith("forecastd.kv")), `data dir holds ${files}`);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // already ended
      }
      await child.status;
      await server.shutdown();
    }
  });
});
