/**
 * aedes in-process on 127.0.0.1 with a hand on its PUBACKs, for the tests of
 * the scale benchmark's publishers: a QoS 1 publish is acknowledged once
 * aedes calls back from `authorizePublish`, so holding that callback holds
 * the PUBACK. The broker counts what it received and checks that no packet
 * id of a connection comes again while its first message is unacknowledged.
 *
 * ```ts
 * const b = await startHoldingBroker({ hold: true });
 * // ... publish to b.url; b.received counts the messages
 * b.release(); // every held PUBACK goes out, and those after it at once
 * await b.close();
 * ```
 */
import { createServer, type Socket } from "node:net";
import { Aedes } from "aedes";

/** A broker started by {@link startHoldingBroker}. */
export interface HoldingBroker {
  readonly url: string;
  /** PUBLISH packets received. */
  readonly received: number;
  /** Their topics, in the order they came. */
  readonly topics: readonly string[];
  /** Packet ids that came again while their first message was unacknowledged. */
  readonly reused: number;
  /** The most messages unacknowledged at once. */
  readonly mostUnacked: number;
  /**
   * Acknowledges what is held, and from now on each message as it comes
   * (after `delayMs`); with `first`, only the first that many held, and holds on.
   */
  release(first?: number): void;
  close(): Promise<void>;
}

/**
 * Starts aedes on a free port. `hold`: PUBACKs wait for release();
 * `delayMs`: each PUBACK is sent that long after its message came.
 */
export async function startHoldingBroker(
  opts: { hold?: boolean; delayMs?: number } = {},
): Promise<HoldingBroker> {
  let holding = opts.hold ?? false;
  const held: (() => void)[] = [];
  const unacked = new Set<string>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const counts = { received: 0, reused: 0, mostUnacked: 0 };
  const topics: string[] = [];
  const aedes = await Aedes.createBroker({
    authorizePublish(client, packet, done) {
      counts.received++;
      topics.push(packet.topic);
      const key = `${client?.id}\u0000${packet.messageId}`;
      if (unacked.has(key)) counts.reused++;
      unacked.add(key);
      counts.mostUnacked = Math.max(counts.mostUnacked, unacked.size);
      const ack = () => {
        unacked.delete(key);
        done(null);
      };
      if (holding) held.push(ack);
      else if (opts.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t);
          ack();
        }, opts.delayMs);
        timers.add(t);
      } else ack();
    },
  });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get received() {
      return counts.received;
    },
    topics,
    get reused() {
      return counts.reused;
    },
    get mostUnacked() {
      return counts.mostUnacked;
    },
    release(first?: number) {
      if (first === undefined) holding = false;
      for (const ack of held.splice(0, first ?? held.length)) ack();
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
