/**
 * A real Prometheus of the test: listening on 127.0.0.1 and a free port,
 * its data in the test's directory, scraping one target every second and
 * evaluating the rule files it is given as often. It is ended by its pid
 * and awaited.
 */
import { eventually, freePort } from "../e2e/_daemon.ts";

/** A running Prometheus. */
export interface Prometheus {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The series of an instant query (its `data.result`). */
  query(expr: string): Promise<unknown[]>;
  /** The loaded rules: name, health ("ok", "err", "unknown") and last error. */
  rules(): Promise<{ name: string; health: string; lastError?: string }[]>;
  /** Waits until `expr` has a result (e.g. `up == 1`). */
  waitFor(expr: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts prometheus in `dir`, scraping `target` (`127.0.0.1:<port>`) /metrics every second. */
export async function startPrometheus(
  dir: string,
  target: string,
  ruleFiles: string[] = [],
): Promise<Prometheus> {
  const port = freePort();
  const config = `${dir}/prometheus.yml`;
  await Deno.writeTextFile(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  evaluation_interval: 1s",
      ...(ruleFiles.length ? ["rule_files:", ...ruleFiles.map((f) => `  - "${f}"`)] : []),
      "scrape_configs:",
      "  - job_name: forecastd",
      "    static_configs:",
      `      - targets: ["${target}"]`,
      "",
    ].join("\n"),
  );
  const child = new Deno.Command("prometheus", {
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dir}/tsdb`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await stderr;
  };
  const query = async (expr: string): Promise<unknown[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = await res.json() as {
      status: string;
      error?: string;
      data?: { result: unknown[] };
    };
    if (body.status !== "success") throw new Error(`prometheus: ${expr}: ${body.error}`);
    return body.data!.result;
  };
  const rules = async () => {
    const res = await fetch(`${url}/api/v1/rules`);
    const body = await res.json() as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    return body.data.groups.flatMap((g) => g.rules);
  };
  const waitFor = async (expr: string, timeoutMs = 20_000) => {
    await eventually(
      async () => (await query(expr)).length > 0 ? true : undefined,
      expr,
      timeoutMs,
    );
  };
  try {
    await eventually(
      async () => {
        const res = await fetch(`${url}/-/ready`);
        await res.body?.cancel();
        return res.ok ? true : undefined;
      },
      `prometheus to be ready on 127.0.0.1:${port}`,
      20_000,
    );
  } catch (e) {
    await stop();
    throw new Error(`prometheus did not start: ${await stderr}`, { cause: e });
  }
  return { url, query, rules, waitFor, stop };
}
