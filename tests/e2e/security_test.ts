/**
 * The real daemon's guard: no token means loopback only (another address
 * is refused before anything starts), and with a token and a certificate
 * it serves HTTPS that only token holders get data from.
 */
import assert from "node:assert/strict";
import { hashToken } from "../../src/auth/token_hash.ts";
import { makeCertificate } from "../api/_certificate.ts";
import { daemonPermissions, ROOT, startDaemon, withTempDir } from "./_daemon.ts";

Deno.test("serve --host 0.0.0.0 without a token exits with status 2 before it opens anything", async () => {
  await withTempDir(async (dir) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...daemonPermissions(dir),
        "main.ts",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--mqtt-port",
        "0",
        "--data-dir",
        dir,
      ],
      cwd: ROOT,
      stdin: "null",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, stderr);
    assert.equal(
      stderr.trim(),
      'Cannot start forecastd: the HTTP API must have an API token to listen on "0.0.0.0" ' +
        "(every interface), or anyone who reaches the port could read and change every stream: " +
        "current value is no token. Make one with forecastd token and pass its hash with " +
        "--api-token (or FORECASTD_API_TOKENS), listen on 127.0.0.1, or accept the risk with " +
        "--allow-unauthenticated",
    );
    assert.deepEqual([...Deno.readDirSync(dir)], [], "no data directory lock, no KV file");
  });
});

Deno.test("serve without a token says in its banner and log that it is open on loopback only", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({ dataDir: dir, waitSubscribed: false });
    try {
      assert.ok(
        d.banner.some((l) => l.startsWith("  auth: none: loopback only")),
        d.banner.join("\n"),
      );
      const warn = await d.waitForLog((e) => e.event === "http.unauthenticated", "the warning");
      assert.equal(warn.level, "warn");
    } finally {
      assert.equal((await d.stop()).code, 0);
    }
  });
});

Deno.test("serve with a token and a certificate: HTTPS, 401 without the token, data with it", async (t) => {
  await withTempDir(async (dir) => {
    const pem = await makeCertificate(dir);
    if (pem === null) {
      console.log("openssl is not installed: skipping the HTTPS daemon test");
      await t.step({ name: "HTTPS daemon (skipped: no openssl)", ignore: true, fn: () => {} });
      return;
    }
    const token = "fcd_e2e-security-token-000000000000000000000000";
    const d = await startDaemon({
      dataDir: dir,
      waitSubscribed: false,
      args: [
        "--tls-cert",
        `${dir}/cert.pem`,
        "--tls-key",
        `${dir}/key.pem`,
        "--api-token",
        `write:${hashToken(token)}`,
      ],
    });
    const client = Deno.createHttpClient({ caCerts: [pem.cert] });
    try {
      assert.match(d.http, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(d.banner.includes("  auth: API tokens (1 write); /healthz and /readyz are open"));
      assert.ok(!d.banner.join("\n").includes(token) && !JSON.stringify(d.log).includes(token));
      const health = await fetch(`${d.http}/healthz`, { client });
      assert.equal(health.status, 200, "the probe is open");
      await health.body?.cancel();
      const none = await fetch(`${d.http}/v1/streams`, { client });
      assert.equal(none.status, 401);
      await none.body?.cancel();
      const ok = await fetch(`${d.http}/v1/streams`, {
        client,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.deepEqual(await ok.json(), { streams: [], next: null });
      await assert.rejects(() => fetch(d.http.replace("https:", "http:") + "/healthz"));
    } finally {
      client.close();
      assert.equal((await d.stop()).code, 0);
    }
  });
});

Deno.test("deno task start's permissions with another --data-dir: status 2 and the deno run command that works", async () => {
  await withTempDir(async (dir) => {
    const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
    const task: string[] = denoJson.tasks.start.command.split(" ");
    assert.deepEqual(task.slice(0, 2), ["deno", "run"]);
    const flags = task.slice(2, task.indexOf("main.ts"));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, "main.ts", "--data-dir", dir, "--port", "0", "--mqtt-port", "0"],
      cwd: ROOT,
      stdin: "null",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, stderr);
    const command = /^ {2}deno run (.*) main\.ts serve --data-dir (\S+)$/m.exec(stderr);
    assert.ok(command, stderr);
    assert.equal(command[2], dir);
    const d = await startDaemon({
      dataDir: dir,
      waitSubscribed: false,
      program: { cmd: Deno.execPath(), args: ["run", ...command[1].split(" "), "main.ts"] },
    });
    assert.match(d.banner.find((l) => l.startsWith("  data:")) ?? "", new RegExp(dir));
    assert.equal((await d.stop()).code, 0);
  });
});
