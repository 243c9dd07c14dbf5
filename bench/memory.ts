/**
 * What one stream must keep between readings, in bytes: the network's
 * parameters and live state, Adam's moments and the trainer's window. The
 * Workspace (gradients, forward caches, temporaries) is scratch that every
 * stream of the same shape shares, so it is counted separately.
 */
import type { Floats } from "../src/model/floats.ts";
import type { OnlineTrainer } from "../src/model/tbptt.ts";

/** Bytes per buffer a stream keeps, their total, and the shared workspace. */
export interface StreamMemory {
  perStream: Record<string, number>;
  perStreamTotal: number;
  workspaceShared: number;
}

/** Counts the typed-array bytes of one stream's network and trainer. */
export function streamMemory<A extends Floats>(trainer: OnlineTrainer<A>): StreamMemory {
  const net = trainer.net;
  const perStream: Record<string, number> = {
    params: net.params.byteLength,
    state: net.h.byteLength + net.c.byteLength,
    adamMoments: trainer.adam.m.byteLength + trainer.adam.v.byteLength,
    window: trainer.xs.byteLength + trainer.ys.byteLength + trainer.h0.byteLength +
      trainer.c0.byteLength,
  };
  let perStreamTotal = 0;
  for (const n of Object.values(perStream)) perStreamTotal += n;
  return { perStream, perStreamTotal, workspaceShared: net.ws.bytes };
}
