import assert from "node:assert/strict";
import { argTokens, leadingPositionals, parseCommandArgs } from "../../src/cli/args.ts";
import { UsageError } from "../../src/cli/usage_error.ts";

const OPTIONS = { rows: { type: "string" }, json: { type: "boolean" } } as const;

Deno.test("parseCommandArgs() returns parseArgs' values and positionals", () => {
  const { values, positionals } = parseCommandArgs("Cannot run x", {
    args: ["a.csv", "--rows=5", "--json"],
    options: OPTIONS,
    allowPositionals: true,
  });
  assert.deepEqual({ ...values }, { rows: "5", json: true });
  assert.deepEqual(positionals, ["a.csv"]);
});

Deno.test("parseCommandArgs() turns parseArgs' refusals into a UsageError naming the action", () => {
  const refused = (args: string[], allowPositionals = true) => {
    try {
      parseCommandArgs("Cannot run x", { args, options: OPTIONS, allowPositionals }, "HELP");
    } catch (e) {
      assert.ok(e instanceof UsageError && e instanceof RangeError, String(e));
      return e.message;
    }
    throw new Error(`${JSON.stringify(args)} was accepted`);
  };
  assert.match(refused(["--bogus"]), /^Cannot run x: Unknown option '--bogus'/);
  assert.match(refused(["--rows", "-5"]), /^Cannot run x: Option '--rows' argument is ambiguous/);
  assert.match(refused(["--rows"]), /^Cannot run x: Option '--rows <value>' argument missing/);
  assert.match(refused(["a.csv"], false), /^Cannot run x: Unexpected argument 'a.csv'/);
  assert.match(refused(["--bogus"]), /\n\nHELP$/, "the help follows the message");
});

Deno.test("argTokens() reads options and positionals without judging them", () => {
  assert.deepEqual(
    argTokens(["--port", "80", "--demo", "--x=1", "file", "--", "--y"], {
      port: { type: "string" },
      demo: { type: "boolean" },
    }),
    [
      { kind: "option", name: "port", rawName: "--port", value: "80", inlineValue: false },
      { kind: "option", name: "demo", rawName: "--demo", value: undefined, inlineValue: false },
      { kind: "option", name: "x", rawName: "--x", value: "1", inlineValue: true },
      { kind: "positional", value: "file" },
      { kind: "positional", value: "--y" },
    ],
  );
});

Deno.test("leadingPositionals() takes at most max leading arguments that are not options", () => {
  assert.deepEqual(leadingPositionals(["kitchen", "k.json", "--force"], 2), [
    ["kitchen", "k.json"],
    ["--force"],
  ]);
  assert.deepEqual(leadingPositionals(["kitchen", "--data-dir", "d", "x"], 2), [
    ["kitchen"],
    ["--data-dir", "d", "x"],
  ]);
  assert.deepEqual(leadingPositionals(["a", "b", "c"], 2), [["a", "b"], ["c"]]);
  assert.deepEqual(leadingPositionals([], 2), [[], []]);
  // "-" names stdin or stdout (import STREAM -, export STREAM -), not an option
  assert.deepEqual(leadingPositionals(["kitchen", "-", "--force"], 2), [
    ["kitchen", "-"],
    ["--force"],
  ]);
});
