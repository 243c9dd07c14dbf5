/**
 * `serve --kv-url URL`: Deno KV is opened on that KV Connect server with the
 * token of DENO_KV_ACCESS_TOKEN, not in the data directory. A stand-in server
 * on 127.0.0.1 records the metadata exchange Deno starts with (a POST to the
 * URL with `Authorization: Bearer <token>`) and refuses it with 401; the
 * daemon then stops with status 2 and a message naming the URL (the test
 * ends it by its pid if it does not). No real KV server is contacted.
 */
import assert from "node:assert/strict";
import { daemonPermissions, ROOT, WAIT_MS, withTempDir } from "./_daemon.ts";

Deno.test("serve --kv-url opens Deno KV on that URL with DENO_KV_ACCESS_TOKEN, and says so when refused", async () => {
  await withTempDir(async (dir) => {
    const seen: { method: string; path: string; auth: string | null }[] = [];
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        await req.body?.cancel();
        seen.push({
          method: req.method,
          path: new URL(req.url).pathname,
          auth: req.headers.get("authorization"),
        });
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
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_KV_ACCESS_TOKEN: "test-token-123" },
    }).spawn();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already ended
      }
    }, WAIT_MS);
    try {
      const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
      const status = await child.status;
      assert.deepEqual(seen[0], {
        method: "POST",
        path: "/kv/db-1",
        auth: "Bearer test-token-123",
      });
      assert.equal(status.code, 2, stderr);
      assert.match(
        stderr,
        new RegExp(
          "^Cannot start forecastd: the KV Connect server of --kv-url must open the database " +
            "with the token of DENO_KV_ACCESS_TOKEN \\(.*401.*\\): current value is " +
            url.replaceAll(".", "\\.") + "$",
          "m",
        ),
      );
      assert.ok(!stderr.includes("test-token-123"), "the token is not shown");
      // the KV lives on the server: no KV file in the data directory
      const files = [];
      for await (const e of Deno.readDir(dataDir)) files.push(e.name);
      assert.ok(!files.some((f) => f.startsWith("forecastd.kv")), `data dir holds ${files}`);
    } finally {
      clearTimeout(timer);
      await server.shutdown();
    }
  });
});
