/**
 * The dense head: y = Wy·h + by, and its backward beside it.
 *
 * Shapes (legend in layout.ts): Wy (O, H) row-major, by (O), h (H), y (O).
 */
import type { Floats } from "./floats.ts";

/** Forward: writes y (O) at yOff from h (H) at hOff. */
export function denseForward(
  y: Floats,
  yOff: number,
  h: Floats,
  hOff: number,
  Wy: Floats,
  by: Floats,
  O: number,
  H: number,
): void {
  for (let r = 0; r < O; r++) {
    let acc = by[r];
    const o = r * H;
    for (let k = 0; k < H; k++) acc += Wy[o + k] * h[hOff + k];
    y[yOff + r] = acc;
  }
}

/**
 * Backward: adds dy ⊗ h into dWy and dy into dby; writes dh (H) = Wyᵀ·dy at
 * dhOff (overwritten). dy (O) at dyOff is the upstream gradient.
 */
export function denseBackward(
  dh: Floats,
  dhOff: number,
  dWy: Floats,
  dby: Floats,
  dy: Floats,
  dyOff: number,
  h: Floats,
  hOff: number,
  Wy: Floats,
  O: number,
  H: number,
): void {
  dh.fill(0, dhOff, dhOff + H);
  for (let r = 0; r < O; r++) {
    const d = dy[dyOff + r];
    if (d === 0) continue;
    dby[r] += d;
    const o = r * H;
    for (let k = 0; k < H; k++) {
      dWy[o + k] += d * h[hOff + k];
      dh[dhOff + k] += Wy[o + k] * d;
    }
  }
}
