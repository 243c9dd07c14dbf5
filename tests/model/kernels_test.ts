import assert from "node:assert/strict";
import {
  kernelKind,
  kindOf,
  makeFloats,
  useKernels,
  wasmKernelsAvailable,
} from "../../src/model/kernels.ts";

const KERNELS_URL = new URL("../../src/model/kernels.ts", import.meta.url).href;

/** kernelKind() in a fresh `deno run` without any permission, or its error. */
async function kindInChild(env: Record<string, string>): Promise<string> {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `const m = await import(${JSON.stringify(KERNELS_URL)});\nconsole.log(m.kernelKind());\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-prompt", script],
      env: { ...env, NO_COLOR: "1" },
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

Deno.test("the kernels load with no permission at all: nothing is read from disk or the environment", async () => {
  // what `deno compile` needs: the module is in the graph (kernels_wasm.ts), not a file read at run time
  const want = wasmKernelsAvailable() ? "wasm" : "ts";
  assert.equal(await kindInChild({}), want);
  // FORECASTD_* variables are src/config's: this one is not read here (the daemon would refuse it)
  assert.equal(await kindInChild({ FORECASTD_KERNELS: "ts" }), want);
});
