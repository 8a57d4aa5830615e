/**
 * The response bodies hostile mode serves: other bytes, bodies that never
 * end, and trickles. All pull-based, so they go only as fast as the client
 * reads and stop when it goes away.
 */

export function invert(chunk: Uint8Array): Uint8Array {
  return chunk.map((b) => b ^ 0xff);
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

export function streamOf(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + Math.max(1, chunk)));
      offset += chunk;
    },
  });
}

export function mapChunks(
  body: ReadableStream<Uint8Array>,
  map: (chunk: Uint8Array) => Uint8Array,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(map(value));
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** The body, then `fill` bytes for as long as the client reads: pulled, so only as fast as it reads. */
export function endless(body: ReadableStream<Uint8Array>, fill: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const filler = new Uint8Array(64 * 1024).fill(fill);
  let ended = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!ended) {
        const { done, value } = await reader.read();
        if (!done) return controller.enqueue(value);
        ended = true;
      }
      controller.enqueue(filler);
    },
    cancel: (reason) => (ended ? undefined : reader.cancel(reason)),
  });
}

/** The first byte at once (so the headers go out), then one byte per interval. */
export function trickle(body: ReadableStream<Uint8Array>, intervalMs: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let pending: Uint8Array = new Uint8Array(0);
  let first = true;
  let timer: NodeJS.Timeout | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (pending.byteLength === 0) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          pending = value;
        }
        if (!first) await new Promise((resolve) => (timer = setTimeout(resolve, intervalMs)));
        first = false;
        controller.enqueue(pending.subarray(0, 1));
        pending = pending.subarray(1);
      },
      cancel: (reason) => {
        clearTimeout(timer);
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
