import type { Readable } from "node:stream";
import type { Hono } from "hono";
import { digestParam, ociError, repositoryParam, type SimContext } from "../context.js";

const PATH = "/v2/:name{.+}/blobs/:digest{[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+}";

/** Parses `bytes=a-b` / `bytes=a-` / `bytes=-n`; undefined when absent, null when unsatisfiable. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined | null {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  let start: number;
  let end: number;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  return start <= end && start < size ? { start, end } : null;
}

/**
 * A web stream pulling from a node stream. Readable.toWeb keeps pushing after
 * the consumer cancels (a client that went away) and then throws from an
 * event handler; pulling on demand has no such window.
 */
function webStream(source: Readable): ReadableStream<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(value as Uint8Array);
    },
    async cancel() {
      await chunks.return?.();
    },
  });
}

export function mountBlobs(app: Hono, sim: SimContext): void {
  app.on(["GET", "HEAD"], PATH, async (c) => {
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    const digest = digestParam(c);
    if (digest instanceof Response) return digest;
    const size = await sim.storage.blobSize(name, digest);
    if (size === undefined) return ociError(c, 404, "BLOB_UNKNOWN", "blob unknown to registry", { digest });
    const common = {
      "docker-content-digest": digest,
      "accept-ranges": "bytes",
      "content-type": "application/octet-stream",
      etag: `"${digest}"`,
    };
    const range = c.req.method === "GET" ? parseRange(c.req.header("range"), size) : undefined;
    if (range === null) {
      return c.body(null, 416, { ...common, "content-range": `bytes */${size}` });
    }
    if (c.req.method === "HEAD") return c.body(null, 200, { ...common, "content-length": String(size) });
    const stream = webStream(sim.storage.readBlob(name, digest, range));
    if (range) {
      return c.body(stream, 206, {
        ...common,
        "content-length": String(range.end - range.start + 1),
        "content-range": `bytes ${range.start}-${range.end}/${size}`,
      });
    }
    return c.body(stream, 200, { ...common, "content-length": String(size) });
  });

  app.delete(PATH, async (c) => {
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    const digest = digestParam(c);
    if (digest instanceof Response) return digest;
    if (!(await sim.storage.unlinkBlob(name, digest))) {
      return ociError(c, 404, "BLOB_UNKNOWN", "blob unknown to registry", { digest });
    }
    return c.body(null, 202, { "docker-content-digest": digest });
  });
}
