import assert from "node:assert/strict";
import { KernelHeap, kernelHeap } from "../../../src/model/wasm/kernel_heap.ts";
import { KERNELS_WASM } from "../../../src/model/wasm/kernels_wasm.ts";

const ignore = kernelHeap === null;

Deno.test({
  name: "KernelHeap.floats() gives zeroed views on 16-byte boundaries that it holds",
  ignore,
  fn() {
    const heap = new KernelHeap(KERNELS_WASM);
    const sizes = [1, 3, 4, 5, 33, 1000];
    const arrays = sizes.map((n) => heap.floats(n));
    arrays.forEach((a, i) => {
      assert.equal(a.length, sizes[i]);
      assert.equal(a.byteOffset % 16, 0, `array ${i} at byte ${a.byteOffset}`);
      assert.ok(a.every((v) => v === 0));
      assert.ok(heap.holds(a));
      assert.equal(heap.address(a, 2), a.byteOffset + 8);
    });
    // no two overlap
    const spans = arrays.map((a) => [a.byteOffset, a.byteOffset + a.byteLength]).sort((p, q) =>
      p[0] - q[0]
    );
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1]);
    assert.ok(spans[0][0] >= 16, "address 0 is never handed out");
    assert.equal(heap.holds(new Float32Array(4)), false);
    assert.equal(kernelHeap!.holds(arrays[0]), false, "another heap's memory is not this one's");
  },
});

Deno.test({
  name: "KernelHeap keeps every view valid when its memory grows",
  ignore,
  fn() {
    const heap = new KernelHeap(KERNELS_WASM);
    const first = heap.floats(100);
    first.fill(7);
    const before = heap.size;
    const big = heap.floats(3 * 65536); // 768 KiB: more than the first page
    assert.ok(heap.size > before, `the memory must have grown from ${before} bytes`);
    assert.equal(first.length, 100, "the first view must not be detached");
    assert.ok(first.every((v) => v === 7));
    assert.ok(heap.holds(first) && heap.holds(big));
    big[big.length - 1] = 1;
    assert.equal(big[big.length - 1], 1);
  },
});

Deno.test({
  name: "KernelHeap refuses to grow past 4 GiB with the pages it holds",
  ignore,
  fn() {
    const heap = new KernelHeap(KERNELS_WASM);
    assert.throws(
      () => heap.floats(2 ** 30 + 1),
      /^RangeError: Cannot allocate model buffer: the kernels' memory must stay within 65536 pages of 64 KiB: current value is 1 pages and 4294967312 more bytes$/,
    );
  },
});

Deno.test({
  name:
    "KernelHeap hands a collected block's address to the next block of its size, small or large",
  ignore,
  async fn() {
    // in a process of its own that can run the garbage collector
    const heapUrl = new URL("../../../src/model/wasm/kernel_heap.ts", import.meta.url).href;
    const wasmUrl = new URL("../../../src/model/wasm/kernels_wasm.ts", import.meta.url).href;
    const script = `
      const { KernelHeap } = await import(${JSON.stringify(heapUrl)});
      const { KERNELS_WASM } = await import(${JSON.stringify(wasmUrl)});
      const heap = new KernelHeap(KERNELS_WASM);
      const keep = heap.floats(8);
      // 40 bytes (small), 3 MiB (past the size the finalizer gets packed in one number)
      let a = heap.floats(10), b = heap.floats(3 * 2 ** 18);
      const at = [a.byteOffset, b.byteOffset];
      a.fill(1); b.fill(2);
      a = b = null;
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      const c = heap.floats(10), d = heap.floats(3 * 2 ** 18);
      console.log(JSON.stringify({ at, again: [c.byteOffset, d.byteOffset],
        zeroed: c.every((v) => v === 0) && d.every((v) => v === 0), keep: keep.length }));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--v8-flags=--expose-gc", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(r.again, r.at, "the same addresses again");
    assert.equal(r.zeroed, true);
  },
});
