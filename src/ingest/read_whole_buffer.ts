/**
 * A work-around for Deno's node:stream: `readable.read()` without a size
 * returns only the first buffered chunk, where Node returns everything
 * buffered (Node's documented behaviour). Seen on Deno 2.9.6: a Readable
 * holding a 100-byte and a 50-byte chunk gives 100 bytes and keeps 50.
 *
 * aedes reads each socket with one `read()` per `'readable'` event and then
 * waits for the next event. A chunk left behind is read only when more bytes
 * arrive, so a publish larger than one socket read (64 KiB) can stay half
 * parsed while its sender waits for the PUBACK: the stall of publishes from
 * about 200 KB up. After this patch `read()` returns every buffered chunk,
 * as aedes expects.
 *
 * tests/ingest/read_whole_buffer_test.ts checks that the Deno behaviour is
 * still there; when that test fails, Deno is fixed and this file can go.
 *
 * ```ts
 * const server = createServer((socket) => aedes.handle(readWholeBuffer(socket)));
 * ```
 */
import { Buffer } from "node:buffer";

/** What is used of a node:stream Readable (a socket). */
interface Readable {
  read(size?: number): unknown;
  readonly readableLength: number;
}

/** Makes `stream.read()` (no size) return all buffered data, as in Node; returns `stream`. */
export function readWholeBuffer<S extends Readable>(stream: S): S {
  const readOne = stream.read.bind(stream);
  stream.read = (size?: number): unknown => {
    if (size !== undefined && size !== null) return readOne(size);
    const first = readOne();
    if (first === null || stream.readableLength === 0 || !(first instanceof Uint8Array)) {
      return first;
    }
    const chunks: Uint8Array[] = [first];
    for (let next = readOne(); next instanceof Uint8Array; next = readOne()) chunks.push(next);
    return Buffer.concat(chunks);
  };
  return stream;
}
