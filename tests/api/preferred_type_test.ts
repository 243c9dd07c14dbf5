import assert from "node:assert/strict";
import { preferredType } from "../../src/api/preferred_type.ts";

const OFFERED = ["application/json", "text/csv"];

Deno.test("preferredType() picks the offered type Accept ranks highest, the first on a tie", () => {
  const cases: [string | undefined, string][] = [
    [undefined, "application/json"],
    ["", "application/json"],
    ["*/*", "application/json"],
    ["text/csv", "text/csv"],
    ["Text/CSV", "text/csv"],
    ["text/*", "text/csv"],
    ["text/csv, application/json", "application/json"],
    ["text/csv;q=0.5, application/json", "application/json"],
    ["application/json;q=0.2, text/csv", "text/csv"],
    ["text/*;q=0.9, */*;q=0.1", "text/csv"],
    ["text/csv;q=0, */*", "application/json"],
    ["text/html", "application/json"],
    ["text/csv;q=bogus, application/json;q=0.1", "application/json"],
  ];
  for (const [accept, want] of cases) {
    assert.equal(preferredType(accept, OFFERED), want, `Accept: ${accept}`);
  }
});
