/**
 * For tests/stream/state_osr_test.ts (run in a child with V8's
 * --trace-deopt): encodes a young stream's state first (one long array of
 * zeros, whose scan V8 compiles on its own in the middle of the call), then
 * arrays of each kind 30 times, as a worker's first checkpoints do.
 */
import { encodeState } from "../../src/stream/state.ts";

encodeState({}, { young: new Float32Array(200_000) });
const grown = {
  a: new Float32Array(20_000),
  b: new Float64Array(20_000),
  c: new Int32Array(20_000),
};
for (let i = 0; i < 30; i++) encodeState({}, grown);
