/**
 * A device in its own process, for tests of the embedded broker: a publish
 * whose bytes arrive from another process meets the broker's socket reads
 * the way a real device's do (an in-process client does not show the stall
 * of tests/ingest/read_whole_buffer_test.ts).
 *
 * `deno run --allow-net=127.0.0.1 --allow-env tests/ingest/_publisher.ts URL TOPIC QOS SIZE...`
 * publishes one payload of each SIZE bytes and prints one JSON line per
 * publish: `{"size":N,"acked":true,"ms":12}`; a publish not acknowledged
 * within 5 s prints `"acked":false`. QoS 0 publishes count as acknowledged
 * once written.
 */
import mqtt from "mqtt";

/** Runs the publisher as a child process; resolves with its lines. */
export async function publishFromAnotherProcess(
  url: string,
  topic: string,
  qos: 0 | 1 | 2,
  sizes: readonly number[],
): Promise<{ size: number; acked: boolean; ms: number }[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      new URL(import.meta.url).pathname,
      url,
      topic,
      String(qos),
      ...sizes.map(String),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`the publisher failed: ${new TextDecoder().decode(out.stderr)}\n${text}`);
  }
  return text.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

if (import.meta.main) {
  const [url, topic, qos, ...sizes] = Deno.args;
  const client = await mqtt.connectAsync(url, {
    clientId: `publisher-${crypto.randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
  });
  for (const size of sizes.map(Number)) {
    const t0 = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const acked = await Promise.race([
      client.publishAsync(topic, "7".repeat(size), { qos: Number(qos) as 0 | 1 | 2 })
        .then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), 5000)),
    ]);
    clearTimeout(timer);
    console.log(JSON.stringify({ size, acked, ms: Math.round(performance.now() - t0) }));
  }
  client.end(true);
  Deno.exit(0);
}
