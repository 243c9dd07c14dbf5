import assert from "node:assert/strict";
import {
  ApiError,
  getAllStreams,
  getAuth,
  getJson,
  postJson,
} from "../../../src/dashboard/page/api_client.ts";
import { credentials } from "../../../src/dashboard/page/api_url.ts";

/** A fetch that records its calls and answers `status` with `body`. */
function fakeFetch(status: number, body: string) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fn = (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    return Promise.resolve(new Response(body, { status }));
  };
  return { fn, calls };
}

// apiUrl() resolves against the page; tests have no page, so they set one
const withPage = async (fn: () => Promise<void>) => {
  const had = Object.getOwnPropertyDescriptor(globalThis, "location");
  Object.defineProperty(globalThis, "location", {
    value: { href: "http://127.0.0.1:9/" },
    configurable: true,
  });
  try {
    await fn();
  } finally {
    if (had) Object.defineProperty(globalThis, "location", had);
    else delete (globalThis as { location?: unknown }).location;
  }
};

Deno.test("getJson() requests the URL apiUrl() makes and gives the JSON", async () => {
  await withPage(async () => {
    const f = fakeFetch(200, '{"streams":[]}');
    assert.deepEqual(await getJson("v1/streams", { limit: 5 }, f.fn), { streams: [] });
    assert.equal(f.calls[0].url, "http://127.0.0.1:9/v1/streams?limit=5");
    assert.equal((f.calls[0].init?.headers as Record<string, string>).accept, "application/json");
  });
});

Deno.test("a refused request throws ApiError with the API's message and status", async () => {
  await withPage(async () => {
    const message = 'Cannot forecast: stream must exist: "x" is unknown';
    const f = fakeFetch(404, JSON.stringify({ error: message }));
    const e = await getJson("v1/streams/x/forecast", {}, f.fn).catch((e) => e);
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 404);
    assert.equal(e.message, message);
  });
});

Deno.test("a failure without the API's JSON names the method, the path and the status", async () => {
  await withPage(async () => {
    const f = fakeFetch(502, "<html>Bad Gateway</html>");
    const e = await postJson("v1/alerts/1/ack", f.fn).catch((e) => e);
    assert.ok(e instanceof ApiError);
    assert.equal(e.message, "POST v1/alerts/1/ack answered 502");
    assert.equal(f.calls[0].init?.method, "POST");
  });
});

Deno.test("getAllStreams() follows next from page to page and stops at the last", async () => {
  await withPage(async () => {
    const pages: Record<string, string> = {
      "": '{"streams":[{"id":"a"},{"id":"b"}],"next":"b"}',
      b: '{"streams":[{"id":"c"}],"next":"c"}',
      c: '{"streams":[],"next":null}',
    };
    const urls: string[] = [];
    const fetchFn = (url: string) => {
      urls.push(url);
      const after = new URL(url).searchParams.get("after") ?? "";
      return Promise.resolve(new Response(pages[after], { status: 200 }));
    };
    const streams = await getAllStreams(fetchFn);
    assert.deepEqual(streams.map((s) => s.id), ["a", "b", "c"]);
    assert.deepEqual(urls, [
      "http://127.0.0.1:9/v1/streams?limit=1000",
      "http://127.0.0.1:9/v1/streams?limit=1000&after=b",
      "http://127.0.0.1:9/v1/streams?limit=1000&after=c",
    ]);
    const stuck = await getAllStreams(() =>
      Promise.resolve(new Response('{"streams":[{"id":"a"}],"next":"a"}'))
    );
    assert.deepEqual(stuck.map((s) => s.id), ["a", "a"], "a cursor that does not move ends it");
  });
});

Deno.test("every request carries the page's token as Authorization: Bearer; getAuth() asks /v1/auth", async () => {
  await withPage(async () => {
    try {
      credentials.token = "fcd_page-token";
      const f = fakeFetch(200, '{"required":true,"role":"read","token":"sha256:0011aabb"}');
      assert.deepEqual(await getAuth(f.fn), {
        required: true,
        role: "read",
        token: "sha256:0011aabb",
      });
      await postJson("v1/alerts/1/ack", f.fn);
      assert.deepEqual(f.calls.map((c) => c.url), [
        "http://127.0.0.1:9/v1/auth",
        "http://127.0.0.1:9/v1/alerts/1/ack",
      ]);
      for (const c of f.calls) {
        assert.equal(
          (c.init?.headers as Record<string, string>).authorization,
          "Bearer fcd_page-token",
        );
      }
      credentials.token = null;
      await getJson("v1/streams", {}, f.fn);
      assert.equal((f.calls[2].init?.headers as Record<string, string>).authorization, undefined);
      const refused = fakeFetch(401, '{"error":"Cannot GET /v1/auth: the request must carry"}');
      const e = await getAuth(refused.fn).catch((e) => e);
      assert.ok(e instanceof ApiError && e.status === 401);
    } finally {
      credentials.token = null;
    }
  });
});
