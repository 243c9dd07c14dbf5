import assert from "node:assert/strict";
import { lines, problems, resolve } from "./_resolve.ts";

Deno.test("--shard I/N and --peer URLs are read from flags, variables and the file", () => {
  const flags = resolve([
    "--shard",
    "1/2",
    "--peer",
    "http://10.0.0.1:8080",
    "--peer",
    "http://10.0.0.2:8080",
  ]).config;
  assert.equal(flags.shard, "1/2");
  assert.deepEqual(flags.peers, ["http://10.0.0.1:8080", "http://10.0.0.2:8080"]);
  const env = resolve([], {
    FORECASTD_SHARD: "0/2",
    FORECASTD_PEERS: "http://a:1,https://b:2/fd",
  }).config;
  assert.equal(env.shard, "0/2");
  assert.deepEqual(env.peers, ["http://a:1", "https://b:2/fd"]);
  const file = resolve(["--config", "c.json"], {}, {
    "c.json": { shard: "2/3", peers: ["http://a", "http://b", "http://c"] },
  }).config;
  assert.equal(file.shard, "2/3");
  assert.equal(resolve(["--shard", "0/1"]).config.shard, "0/1");
});

Deno.test("--shard must be I/N with 0 <= I < N, and --peer must list every shard", () => {
  for (const bad of ["2/2", "0/0", "1", "a/b", "0/1025"]) {
    assert.match(
      lines(problems(["--shard", bad]))[0],
      /^shard \(flag --shard\): must be I\/N with N from 1 to 1024 and I from 0 to N-1/,
      bad,
    );
  }
  assert.match(
    lines(problems(["--shard", "0/2", "--peer", "http://a:1"])).join("\n"),
    /peers.*must list the base URL of each of the 2 shards in shard order \(this one at 0\): current value lists 1/,
  );
  assert.match(
    lines(problems(["--peer", "http://a:1"])).join("\n"),
    /peers.*must be given with shard/,
  );
  assert.match(
    lines(problems(["--shard", "0/2", "--peer", "mqtt://a:1", "--peer", "http://b"])).join("\n"),
    /peers.*must be an http:\/\/ or https:\/\/ URL/,
  );
});

Deno.test("--kv-url takes an http:// or https:// URL and nothing else", () => {
  assert.equal(
    resolve(["--kv-url", "http://127.0.0.1:4512"]).config.kvUrl,
    "http://127.0.0.1:4512",
  );
  assert.equal(
    resolve([], { FORECASTD_KV_URL: "https://kv.example/db" }).config.kvUrl,
    "https://kv.example/db",
  );
  assert.match(
    lines(problems(["--kv-url", "./data/forecastd.kv"]))[0],
    /^kvUrl \(flag --kv-url\): must be an http:\/\/ or https:\/\/ URL/,
  );
});

Deno.test("--worker-nice N: 10 by default, 0 to 19 from a flag, a variable or the file", () => {
  assert.equal(resolve().config.workerNice, 10);
  assert.equal(resolve(["--worker-nice", "0"]).config.workerNice, 0);
  assert.equal(resolve(["--worker-nice=19"]).config.workerNice, 19);
  assert.equal(resolve([], { FORECASTD_WORKER_NICE: "3" }).config.workerNice, 3);
  assert.equal(
    resolve(["--config", "c.json"], {}, { "c.json": { workerNice: 7 } }).config.workerNice,
    7,
  );
});

Deno.test("--worker-nice out of range or not an integer is refused with its source and value", () => {
  const error = "must be an integer from 0 to 19";
  assert.deepEqual(lines(problems(["--worker-nice", "20"])), [
    `workerNice (flag --worker-nice): ${error}: current value is "20"`,
  ]);
  assert.deepEqual(lines(problems(["--worker-nice", "-1"])), [
    `workerNice (flag --worker-nice): ${error}: current value is "-1"`,
  ]);
  assert.deepEqual(lines(problems([], { FORECASTD_WORKER_NICE: "2.5" })), [
    `workerNice (env FORECASTD_WORKER_NICE): ${error}: current value is "2.5"`,
  ]);
  assert.deepEqual(lines(problems([], { FORECASTD_WORKER_NICE: "low" })), [
    `workerNice (env FORECASTD_WORKER_NICE): ${error}: current value is "low"`,
  ]);
  assert.deepEqual(lines(problems(["--config", "c.json"], {}, { "c.json": { workerNice: "5" } })), [
    `workerNice (file c.json): ${error}: current value is "5"`,
  ]);
  assert.equal(
    problems(["--worker-nice", "99"]).message,
    "Cannot start forecastd: invalid configuration:\n" +
      `  workerNice (flag --worker-nice): ${error}: current value is "99"`,
  );
});
