/**
 * Webhook delivery against a scripted fetch: headers and signature, the
 * retry policy (what is retried, the doubling delays, giving up), the bounded
 * queue, and close() leaving nothing behind. The end-to-end test with a real
 * receiver is in tests/api/alerts_test.ts.
 */
import assert from "node:assert/strict";
import { AlertHub } from "../../src/service/alert_hub.ts";
import { signBody, startWebhooks, WebhookSender } from "../../src/alerts/webhook.ts";
import { captureLog } from "../../src/log.ts";
import { storedAlert } from "../_helpers.ts";

const alert = (n: number, stream = "s") =>
  storedAlert({ id: String(n).padStart(16, "0"), stream, time: 1_750_000_000_000 + n });

interface Call {
  url: string;
  headers: Headers;
  body: string;
}

/** A fetch that answers each call with the next of `script` (a status, or "network" to throw). */
function scriptedFetch(script: (number | "network")[]) {
  const calls: Call[] = [];
  const fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({
      url: String(input),
      headers: new Headers(init?.headers),
      body: String(init?.body),
    });
    const step = script.shift() ?? 200;
    if (step === "network") return Promise.reject(new TypeError("connection refused"));
    return Promise.resolve(new Response(step === 204 ? null : "x", { status: step }));
  };
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

const HOOK = { url: "http://hooks.example/t/SECRET-TOKEN", secret: null, streams: null };

Deno.test("signBody() matches HMAC-SHA256 test case 2 of RFC 4231", async () => {
  assert.equal(
    await signBody("Jefe", "what do ya want for nothing?"),
    "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
});

Deno.test("a webhook POSTs the alert JSON with its event id, and a signature only with a secret", async () => {
  const log = captureLog();
  const f = scriptedFetch([204, 200]);
  const plain = new WebhookSender(HOOK, log.log, { fetch: f.fetch });
  const signed = new WebhookSender({ ...HOOK, secret: "k" }, log.log, { fetch: f.fetch });
  plain.enqueue(alert(1));
  signed.enqueue(alert(2));
  await plain.idle();
  await signed.idle();
  assert.equal(f.calls.length, 2);
  const [a, b] = f.calls;
  assert.equal(a.url, HOOK.url);
  assert.deepEqual(JSON.parse(a.body), alert(1));
  assert.equal(a.headers.get("content-type"), "application/json");
  assert.equal(a.headers.get("x-forecastd-event-id"), "0000000000000001");
  assert.equal(a.headers.get("x-forecastd-attempt"), "1");
  assert.equal(a.headers.get("x-forecastd-signature"), null);
  assert.equal(b.headers.get("x-forecastd-signature"), await signBody("k", b.body));
  assert.equal(plain.counters.delivered, 1);
  assert.ok(!log.lines.join("\n").includes("SECRET-TOKEN"), "the URL's path is not logged");
});

Deno.test("a webhook retries 5xx, 429 and network errors after doubling delays, then delivers", async () => {
  const log = captureLog();
  const f = scriptedFetch([500, "network", 429, 503, 200]);
  const s = new WebhookSender(HOOK, log.log, { fetch: f.fetch, baseDelayMs: 1, attempts: 6 });
  s.enqueue(alert(1));
  await s.idle();
  assert.deepEqual(f.calls.map((c) => c.headers.get("x-forecastd-attempt")), [
    "1",
    "2",
    "3",
    "4",
    "5",
  ]);
  assert.ok(f.calls.every((c) => c.headers.get("x-forecastd-event-id") === alert(1).id));
  const delays = log.entries().filter((e) => e.event === "webhook.retrying").map((e) => e.delayMs);
  assert.deepEqual(delays, [1, 2, 4, 8]);
  assert.deepEqual(s.counters, { delivered: 1, failed: 0, retries: 4, dropped: 0 });
});

Deno.test("a webhook does not retry a 4xx other than 429, and gives up after `attempts`", async () => {
  const log = captureLog();
  const f = scriptedFetch([400, 500, 500, 500]);
  const s = new WebhookSender(HOOK, log.log, { fetch: f.fetch, baseDelayMs: 1, attempts: 3 });
  s.enqueue(alert(1)); // 400: final
  s.enqueue(alert(2)); // 500 x 3: gives up
  await s.idle();
  assert.deepEqual(f.calls.map((c) => Number(c.headers.get("x-forecastd-event-id"))), [1, 2, 2, 2]);
  assert.deepEqual(s.counters, { delivered: 0, failed: 2, retries: 2, dropped: 0 });
  const events = log.entries().map((e) => e.event);
  assert.ok(events.includes("webhook.rejected") && events.includes("webhook.gave_up"), `${events}`);
});

Deno.test("a full webhook queue drops its oldest waiting alert and counts it", async () => {
  const log = captureLog();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const sent: string[] = [];
  const fetch = async (_: string | URL | Request, init?: RequestInit) => {
    sent.push(JSON.parse(String(init?.body)).id);
    await gate;
    return new Response(null, { status: 204 });
  };
  const s = new WebhookSender(HOOK, log.log, {
    fetch: fetch as typeof globalThis.fetch,
    queueSize: 2,
  });
  for (let n = 1; n <= 4; n++) s.enqueue(alert(n)); // 1 in flight; 2, 3 wait; 4 drops 2
  assert.equal(s.queued, 2);
  release();
  await s.idle();
  assert.deepEqual(sent.map(Number), [1, 3, 4]);
  assert.equal(s.counters.dropped, 1);
  assert.equal(s.counters.delivered, 3);
});

Deno.test("close() cancels a pending retry and aborts a request in flight, leaving no timer", async () => {
  const log = captureLog();
  // a retry one minute away: close() must not wait for it (the test's sanitizer sees any timer left)
  const f = scriptedFetch([500]);
  const waiting = new WebhookSender(HOOK, log.log, { fetch: f.fetch, baseDelayMs: 60_000 });
  waiting.enqueue(alert(1));
  while (!log.entries().some((e) => e.event === "webhook.retrying")) {
    await new Promise((r) => setTimeout(r, 1));
  }
  await waiting.close();
  assert.equal(f.calls.length, 1);
  waiting.enqueue(alert(2));
  assert.equal(waiting.queued, 0, "a closed webhook takes nothing");

  let aborted = false;
  const hanging = (_: string | URL | Request, init?: RequestInit) =>
    new Promise<Response>((_, reject) => {
      init?.signal?.addEventListener("abort", () => {
        aborted = true;
        reject(new DOMException("aborted", "AbortError"));
      });
    });
  const inFlight = new WebhookSender(HOOK, log.log, {
    fetch: hanging as typeof globalThis.fetch,
    timeoutMs: 60_000,
  });
  inFlight.enqueue(alert(3));
  await new Promise((r) => setTimeout(r, 1));
  await inFlight.close();
  assert.ok(aborted, "the request in flight was aborted");
  assert.equal(inFlight.counters.retries, 0);
});

Deno.test("a request that outlives timeoutMs is aborted and retried", async () => {
  const log = captureLog();
  let calls = 0;
  const fetch = (_: string | URL | Request, init?: RequestInit) => {
    calls++;
    if (calls > 1) return Promise.resolve(new Response(null, { status: 204 }));
    return new Promise<Response>((_, reject) => {
      init?.signal?.addEventListener("abort", () => reject(new DOMException("t", "AbortError")));
    });
  };
  const s = new WebhookSender(HOOK, log.log, {
    fetch: fetch as typeof globalThis.fetch,
    timeoutMs: 5,
    baseDelayMs: 1,
  });
  s.enqueue(alert(1));
  await s.idle();
  assert.equal(calls, 2);
  assert.equal(s.counters.delivered, 1);
  const retry = log.entries().find((e) => e.event === "webhook.retrying");
  assert.equal(retry?.error, "no answer within 5 ms");
});

Deno.test("startWebhooks() subscribes each webhook to its streams only; close() unsubscribes", async () => {
  const log = captureLog();
  const f = scriptedFetch([]);
  const hub = new AlertHub();
  const hooks = startWebhooks(
    hub,
    [
      { url: "http://a.example/", secret: null, streams: ["boiler"] },
      { url: "http://b.example/", secret: null, streams: null },
    ],
    log.log,
    { fetch: f.fetch },
  );
  assert.equal(hub.size, 2);
  hub.publish(alert(1, "boiler"), (e) => {
    throw e;
  });
  hub.publish(alert(2, "pump"), (e) => {
    throw e;
  });
  await Promise.all(hooks.senders.map((s) => s.idle()));
  const got = f.calls.map((c) => `${new URL(c.url).host}:${Number(JSON.parse(c.body).id)}`).sort();
  assert.deepEqual(got, ["a.example:1", "b.example:1", "b.example:2"]);
  await hooks.close();
  assert.equal(hub.size, 0);
});
