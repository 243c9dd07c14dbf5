import assert from "node:assert/strict";
import { assembleKernels, buildKernelsModule, OUTPUT_URL } from "../../tools/build_kernels.ts";
import { KERNELS_WASM } from "../../src/model/wasm/kernels_wasm.ts";

Deno.test("the committed kernels_wasm.ts is what `deno task build:wasm` builds from kernels.wat", async () => {
  const committed = await Deno.readTextFile(OUTPUT_URL);
  const fresh = await buildKernelsModule();
  assert.ok(
    committed === fresh,
    "src/model/wasm/kernels_wasm.ts is stale: run `deno task build:wasm` and commit the result",
  );
});

Deno.test("the embedded kernels are a valid WebAssembly module with the eight kernels", () => {
  assert.ok(WebAssembly.validate(KERNELS_WASM as Uint8Array<ArrayBuffer>));
  const mod = new WebAssembly.Module(KERNELS_WASM as Uint8Array<ArrayBuffer>);
  assert.deepEqual(
    WebAssembly.Module.exports(mod).map((e) => e.name).sort(),
    [
      "adam_update",
      "dense_backward",
      "dense_forward",
      "lstm_backward",
      "lstm_forward",
      "rls_predict",
      "rls_update",
      "sum_squares",
    ],
  );
  assert.deepEqual(WebAssembly.Module.imports(mod), [
    { module: "env", name: "memory", kind: "memory" },
  ]);
});

Deno.test("assembleKernels() rejects text that is not valid WebAssembly, naming the line", async () => {
  await assert.rejects(
    () => assembleKernels("(module\n  (func (result i32) (f32.const 1)))"),
    /kernels\.wat:2/,
  );
});
