import { PassThrough, type Readable } from "node:stream";
import { STREAM_BUFFER_BYTES } from "../core/limits.js";

/**
 * A stream available at once for a source that opens asynchronously (a
 * blob download that first has to ask the registry). Lets async sources
 * feed APIs that take a stream factory; errors of the source reach the reader,
 * and a reader that stops early closes the source.
 */
export function pendingReadable(open: () => Promise<Readable>): Readable {
  const out = new PassThrough({ highWaterMark: STREAM_BUFFER_BYTES });
  // The reader may be gone (a request answered before its body was read) when the source
  // fails late: that failure is nobody's to handle any more and must not crash the process.
  out.on("error", () => undefined);
  open().then(
    (source) => {
      source.once("error", (error) => out.destroy(error));
      out.once("close", () => {
        if (!source.readableEnded) source.destroy();
      });
      source.pipe(out);
    },
    (error: Error) => out.destroy(error),
  );
  return out;
}
