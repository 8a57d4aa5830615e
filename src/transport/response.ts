import { ProtocolError, SizeLimitError } from "../core/errors.js";
import type { HttpResponse } from "./types.js";

export function headerValues(response: HttpResponse, name: string): string[] {
  const value = response.headers[name.toLowerCase()];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function headerValue(response: HttpResponse, name: string): string | undefined {
  return headerValues(response, name)[0];
}

/**
 * Reads a whole body into memory, for small documents only (manifests,
 * JSON): refuses before reading when Content-Length is over the limit, and
 * stops reading as soon as the limit is passed.
 */
export async function readBytes(
  response: HttpResponse,
  limit: number,
  what = "response body",
): Promise<Buffer> {
  const declared = Number(headerValue(response, "content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    abandon(response);
    throw new SizeLimitError(what, limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    const buf = chunk as Buffer;
    size += buf.byteLength;
    if (size > limit) {
      abandon(response);
      throw new SizeLimitError(what, limit);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}

export async function readText(response: HttpResponse, limit: number, what?: string): Promise<string> {
  return (await readBytes(response, limit, what)).toString("utf8");
}

export async function readJson(response: HttpResponse, limit: number, what = "response"): Promise<unknown> {
  const text = await readText(response, limit, what);
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError(`${what}: response is not valid JSON`);
  }
}

/**
 * Frees the connection: a short remainder is drained so the keep-alive
 * socket goes back to the pool; a long one is cut. Never throws.
 */
export async function discard(response: HttpResponse): Promise<void> {
  const body = response.body as HttpResponse["body"] & { dump?: (opts: { limit: number }) => Promise<void> };
  if (body.readableEnded || body.destroyed) return;
  try {
    if (typeof body.dump === "function") {
      await body.dump({ limit: DRAIN_LIMIT });
      return;
    }
    let drained = 0;
    for await (const chunk of body) {
      drained += (chunk as Buffer).byteLength;
      if (drained > DRAIN_LIMIT) break;
    }
  } catch {
    // the connection is gone either way
  } finally {
    if (!body.readableEnded) abandon(response);
  }
}

const DRAIN_LIMIT = 128 * 1024;

/**
 * Stops reading a body on purpose. Destroying an unfinished body makes it
 * emit an abort error; nobody is listening for that one, and it must not
 * become an uncaught exception.
 */
export function abandon(response: HttpResponse): void {
  response.body.on("error", () => undefined);
  response.body.destroy();
}
