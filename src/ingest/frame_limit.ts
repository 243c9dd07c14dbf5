/**
 * A size limit on the MQTT packets a client sends, checked on the bytes as
 * they are read, before the MQTT parser buffers a packet whole: a client
 * announcing a 200 MB PUBLISH is cut off after its first few bytes instead
 * of filling the gateway's memory.
 *
 * It wraps the stream's `read()` (as aedes reads sockets) and follows the
 * packet boundaries: each packet is a type byte, its remaining length as a
 * variable-length integer (1 to 4 bytes), then that many bytes.
 */

/** What is used of a node:stream Readable (a socket). */
interface Readable {
  read(size?: number): unknown;
  readonly readableLength: number;
}

/**
 * Calls `onTooLarge(remainingLength)` once, and stops handing bytes on, when
 * a packet's remaining length exceeds `maxRemainingLength`. Returns `stream`.
 */
export function limitFrames<S extends Readable>(
  stream: S,
  maxRemainingLength: number,
  onTooLarge: (remainingLength: number) => void,
): S {
  const read = stream.read.bind(stream);
  // the bytes of the current packet's body still to come; -1: in a header
  let body = 0;
  let inHeader = false;
  let length = 0;
  let shift = 0;
  let tripped = false;
  stream.read = (size?: number): unknown => {
    if (tripped) return null;
    const chunk = read(size);
    if (!(chunk instanceof Uint8Array)) return chunk;
    let i = 0;
    while (i < chunk.length) {
      if (body > 0) {
        const n = Math.min(body, chunk.length - i);
        body -= n;
        i += n;
      } else if (!inHeader) {
        inHeader = true; // the type byte
        length = 0;
        shift = 0;
        i++;
      } else {
        const b = chunk[i++];
        length += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if ((b & 0x80) === 0 || shift >= 28) {
          inHeader = false;
          body = length;
          if (length > maxRemainingLength) {
            tripped = true;
            onTooLarge(length);
            return null;
          }
        }
      }
    }
    return chunk;
  };
  return stream;
}
