import assert from "node:assert/strict";
import {
  apiPath,
  apiUrl,
  authHeaders,
  credentials,
  feedUrl,
} from "../../../src/dashboard/page/api_url.ts";

const PAGE = "http://127.0.0.1:8080/";

Deno.test("apiUrl() resolves a path of the API against the page, with its query", () => {
  assert.equal(apiUrl("v1/streams", {}, PAGE), "http://127.0.0.1:8080/v1/streams");
  assert.equal(
    apiUrl("v1/alerts", { order: "desc", limit: 50 }, PAGE),
    "http://127.0.0.1:8080/v1/alerts?order=desc&limit=50",
  );
});

Deno.test("apiUrl() leaves out undefined and null parameters and encodes the others", () => {
  assert.equal(
    apiUrl("v1/x", { after: undefined, stream: null, above: -2.5, q: "a b&c" }, PAGE),
    "http://127.0.0.1:8080/v1/x?above=-2.5&q=a+b%26c",
  );
});

Deno.test("apiUrl() keeps a proxy's prefix: paths are relative to the page, even with a leading slash", () => {
  const behindProxy = "https://gateway.local/forecastd/";
  assert.equal(apiUrl("v1/streams", {}, behindProxy), "https://gateway.local/forecastd/v1/streams");
  assert.equal(
    apiUrl("/v1/streams", {}, behindProxy),
    "https://gateway.local/forecastd/v1/streams",
  );
  // the page's own query and fragment do not leak into API URLs
  assert.equal(
    apiUrl("v1/streams", {}, "https://gateway.local/forecastd/?x=1#demo"),
    "https://gateway.local/forecastd/v1/streams",
  );
});

Deno.test("apiPath() encodes every segment after the first", () => {
  assert.equal(apiPath("v1/streams", "boiler:1", "recent"), "v1/streams/boiler%3A1/recent");
  assert.equal(apiPath("v1/alerts", "0000000000000042", "ack"), "v1/alerts/0000000000000042/ack");
});

Deno.test("the token goes in Authorization on fetches and in ?token= on the feed only", () => {
  try {
    credentials.token = null;
    assert.deepEqual(authHeaders(), {});
    assert.equal(
      feedUrl("v1/alerts/events", { after: "0" }, PAGE),
      `${PAGE}v1/alerts/events?after=0`,
    );
    credentials.token = "fcd_a b";
    assert.deepEqual(authHeaders(), { authorization: "Bearer fcd_a b" });
    assert.equal(
      feedUrl("v1/alerts/events", { after: "0" }, PAGE),
      `${PAGE}v1/alerts/events?after=0&token=fcd_a+b`,
    );
    assert.equal(apiUrl("v1/streams", {}, PAGE), `${PAGE}v1/streams`, "never in other URLs");
  } finally {
    credentials.token = null;
  }
});
