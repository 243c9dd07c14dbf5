import assert from "node:assert/strict";
import { KernelHeap, kernelHeap } from "../../../src/model/wasm/kernel_heap.ts";
import { KERNELS_WASM } from "../../../src/model/wasm/kernels_wasm.ts";

const ignore = kernelHeap === null;

/**
 * Runs `body` in a process of its own that can run the garbage collector,
 * with `heap` a new KernelHeap and `gc()` a few collections and turns of the
 * event loop; returns what it logs, parsed as JSON.
 */
// deno-lint-ignore no-explicit-any
async function inGcProcess(body: string): Promise<Record<string, any>> {
  const heapUrl = new URL("../../../src/model/wasm/kernel_heap.ts", import.meta.url).href;
  const wasmUrl = new URL("../../../src/model/wasm/kernels_wasm.ts", import.meta.url).href;
  const script = `
    const { KernelHeap } = await import(${JSON.stringify(heapUrl)});
    const { KERNELS_WASM } = await import(${JSON.stringify(wasmUrl)});
    const heap = new KernelHeap(KERNELS_WASM);
    const gc = async () => {
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
    };
    ${body}
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

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
    const r = await inGcProcess(`
      const keep = heap.floats(8);
      // 40 bytes (small), 3 MiB (past the size the finalizer gets packed in one number)
      let a = heap.floats(10), b = heap.floats(3 * 2 ** 18);
      const at = [a.byteOffset, b.byteOffset];
      a.fill(1); b.fill(2);
      a = b = null;
      await gc();
      const c = heap.floats(10), d = heap.floats(3 * 2 ** 18);
      console.log(JSON.stringify({ at, again: [c.byteOffset, d.byteOffset],
        zeroed: c.every((v) => v === 0) && d.every((v) => v === 0), keep: keep.length }));
    `);
    assert.deepEqual(r.again, r.at, "the same addresses again");
    assert.equal(r.zeroed, true);
  },
});

Deno.test({
  name: "KernelHeap.floatsFor() gives an owner's arrays in one block, freed with the owner alone",
  ignore,
  async fn() {
    const r = await inGcProcess(`
      const sizes = [10, 3, 5];
      let owner = {};
      let arrays = heap.floatsFor(owner, sizes);
      const at = arrays.map((a) => a.byteOffset), lengths = arrays.map((a) => a.length);
      const held = arrays.every((a) => heap.holds(a));
      arrays.forEach((a, i) => a.fill(i + 1));
      // the arrays dropped, the owner kept: the block is not handed out again
      arrays = null;
      await gc();
      const other = {}, whileOwned = heap.floatsFor(other, sizes)[0].byteOffset;
      // the owner dropped: the next block of its size takes its address, zeroed
      owner = null;
      await gc();
      const again = heap.floatsFor({}, sizes);
      console.log(JSON.stringify({ at, lengths, held, whileOwned, again: again.map((a) => a.byteOffset),
        zeroed: again.every((a) => a.every((v) => v === 0)), other: typeof other }));
    `);
    // each on a 16-byte boundary, one after the other: 10 floats take 48 bytes, 3 take 16
    assert.deepEqual(r.lengths, [10, 3, 5]);
    assert.deepEqual(r.at, [r.at[0], r.at[0] + 48, r.at[0] + 64]);
    assert.equal(r.at[0] % 16, 0);
    assert.equal(r.held, true);
    assert.notEqual(r.whileOwned, r.at[0], "a block whose owner lives is not handed out again");
    assert.deepEqual(r.again, r.at, "the owner's block again, once the owner is collected");
    assert.equal(r.zeroed, true);
  },
});

Deno.test({
  name:
    "A network's parameters and state, and Adam's moments, are one block each of the kernels' memory",
  ignore,
  async fn() {
    const { Network, Workspace } = await import("../../../src/model/network.ts");
    const { Adam } = await import("../../../src/model/optim.ts");
    // (a workspace is shared by every stream's network of a shape: made before counting)
    const shape = { inputs: 3, hidden: 6, layers: 2, outputs: 2 };
    const workspace = new Workspace(shape, 4, Float32Array);
    new Network({ ...shape, window: 4, workspace }); // and the kernels' scratch of the workspace
    const before = kernelHeap!.blocks;
    const net = new Network({ ...shape, window: 4, workspace });
    const adam = new Adam<Float32Array>(net.layout, Float32Array);
    assert.equal(kernelHeap!.blocks - before, 2, "one block (one finalizer cell) each");
    const end = (a: Float32Array) => a.byteOffset + Math.ceil(a.byteLength / 16) * 16;
    assert.ok(kernelHeap!.holds(net.params) && kernelHeap!.holds(adam.m));
    assert.equal(net.h.byteOffset, end(net.params));
    assert.equal(net.c.byteOffset, end(net.h));
    assert.equal(adam.v.byteOffset, end(adam.m));
    assert.equal(net.h.length, 12);
    assert.equal(adam.v.length, net.params.length);
  },
});
