import assert from "node:assert/strict";
import {
  kernelKind,
  kindOf,
  makeFloats,
  useKernels,
  wasmKernelsAvailable,
} from "../../src/model/kernels.ts";

const KERNELS_URL = new URL("../../src/model/kernels.ts", import.meta.url).href;

/** kernelKind() in a fresh `deno run` with FORECASTD_KERNELS set, or its error. */
async function kindInChild(value: string, allowEnv: boolean): Promise<string> {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `const m = await import(${JSON.stringify(KERNELS_URL)});\nconsole.log(m.kernelKind());\n`,
    );
    const perms = allowEnv ? ["--allow-env=FORECASTD_KERNELS"] : [];
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-prompt", ...perms, script],
      env: { FORECASTD_KERNELS: value, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.success ? out.stdout : out.stderr);
    return out.success ? text.trim() : `failed: ${text}`;
  } finally {
    await Deno.remove(script);
  }
}

Deno.test("makeFloats() gives ordinary arrays for the TypeScript kernels and for Float64Array", () => {
  for (
    const [dtype, kind] of [[Float32Array, "ts"], [Float64Array, "ts"], [
      Float64Array,
      "wasm",
    ]] as const
  ) {
    const a = makeFloats(dtype, 5, kind);
    assert.ok(a instanceof dtype);
    assert.equal(a.length, 5);
    assert.ok(a.buffer instanceof ArrayBuffer, `${dtype.name} for ${kind}`);
    assert.equal(kindOf(a), "ts");
  }
});

Deno.test({
  name: "makeFloats() puts a Float32Array in the kernels' memory for the WebAssembly kernels",
  ignore: !wasmKernelsAvailable(),
  fn() {
    const a = makeFloats<Float32Array>(Float32Array, 7, "wasm");
    assert.equal(kindOf(a), "wasm");
    assert.deepEqual(Array.from(a), [0, 0, 0, 0, 0, 0, 0]);
  },
});

Deno.test("useKernels() sets the kind of the buffers made after it", () => {
  const before = kernelKind();
  try {
    useKernels("ts");
    assert.equal(kernelKind(), "ts");
    assert.equal(kindOf(makeFloats(Float32Array, 3)), "ts");
    if (wasmKernelsAvailable()) {
      useKernels("wasm");
      assert.equal(kindOf(makeFloats(Float32Array, 3)), "wasm");
    } else {
      assert.throws(() => useKernels("wasm"), /^RangeError: Cannot use kernels/);
    }
  } finally {
    useKernels(before);
  }
});

Deno.test("FORECASTD_KERNELS=ts selects the TypeScript kernels when --allow-env covers it", async () => {
  assert.equal(await kindInChild("ts", true), "ts");
  assert.equal(await kindInChild("wasm", true), wasmKernelsAvailable() ? "wasm" : "ts");
  // without the permission the variable is not read (and no prompt is shown)
  assert.equal(await kindInChild("ts", false), wasmKernelsAvailable() ? "wasm" : "ts");
});

Deno.test("FORECASTD_KERNELS other than wasm or ts is refused with its value", async () => {
  const out = await kindInChild("simd", true);
  assert.match(
    out,
    /RangeError: Cannot choose kernels: FORECASTD_KERNELS must be "wasm" or "ts": current value is "simd"/,
  );
});
