import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import { streamBody } from "./context.js";

/** What a body read ended with; `undefined` when the client went away mid-body. */
export type BodyResult = { bytes: number; overflow: boolean } | undefined;

/** Unwritten bytes handed to the sink before the socket is paused (back-pressure). */
const HIGH_WATER = 1 << 20;

/** Request bytes each Node request's body gave its route, for the request log. */
const received = new WeakMap<object, number>();

/** Body bytes a route read from this request (undefined when none read it). */
export function bytesReceived(incoming: object): number | undefined {
  return received.get(incoming);
}

/**
 * The Node request under a Hono context, when the app runs behind
 * @hono/node-server (`c.env.incoming`) and nothing has read its body yet.
 * In-process callers of `app.fetch` have none: they get the web body.
 */
function nodeRequest(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || typeof incoming.on !== "function" || typeof incoming.pause !== "function")
    return undefined;
  return incoming.readableDidRead || incoming.readableEnded ? undefined : incoming;
}

/**
 * Reads a request body chunk by chunk into `sink`, and returns
 * the byte count. Behind the Node server it reads the `IncomingMessage`
 * itself: the chunks are the socket's own buffers (the web stream
 * @hono/node-server would build copies every chunk into a new Uint8Array
 * and costs a promise per read); each chunk goes to `sink` as it arrives,
 * without waiting for the previous call to settle (the sink must keep call
 * order, as RegistryStorage.appendUpload does), and the socket is paused
 * while more than HIGH_WATER bytes wait for the sink. What arrived before a client went away
 * is kept, as real registries do, so the upload can resume; a body beyond
 * `limit` stops the read (the caller answers 413).
 */
export async function readBody(
  c: Context,
  sink: (chunk: Buffer) => Promise<void>,
  limit = Number.POSITIVE_INFINITY,
): Promise<BodyResult> {
  const incoming = nodeRequest(c);
  if (!incoming) return streamBody(c.req.raw, sink, limit);
  const { result, bytes } = await pump(incoming, sink, limit);
  received.set(incoming, bytes);
  return result;
}

function pump(
  incoming: IncomingMessage,
  sink: (chunk: Buffer) => Promise<void>,
  limit: number,
): Promise<{ result: BodyResult; bytes: number }> {
  return new Promise((resolve) => {
    let bytes = 0;
    let waiting = 0;
    let pending = 0;
    let failed = false;
    let outcome: BodyResult | null = null;
    const finish = () => {
      if (outcome === null || pending > 0) return;
      incoming.off("data", onData).off("end", onEnd).off("error", onGone).off("aborted", onGone);
      resolve({ result: failed ? undefined : outcome, bytes });
    };
    const end = (result: BodyResult) => {
      if (outcome !== null) return;
      outcome = result;
      finish();
    };
    const settled = (size: number) => {
      pending--;
      waiting -= size;
      if (waiting <= HIGH_WATER / 2 && incoming.isPaused() && outcome === null) incoming.resume();
      finish();
    };
    // Every chunk goes to the sink as it arrives (the storage appends in call order).
    const onData = (chunk: Buffer) => {
      if (outcome !== null || failed) return;
      bytes += chunk.byteLength;
      if (bytes > limit) {
        incoming.pause();
        end({ bytes, overflow: true });
        return;
      }
      pending++;
      waiting += chunk.byteLength;
      if (waiting > HIGH_WATER) incoming.pause();
      const size = chunk.byteLength;
      sink(chunk).then(
        () => settled(size),
        () => {
          failed = true;
          settled(size);
        },
      );
    };
    const onEnd = () => end({ bytes, overflow: false });
    const onGone = () => end(undefined);
    incoming.on("data", onData).once("end", onEnd).once("error", onGone).once("aborted", onGone);
  });
}
