import { ProtocolError, SizeLimitError } from "../core/errors.js";
import type { HttpResponse } from "./types.js";

/** All values of a header, in the order received; empty when absent. */
export function headerValues(response: HttpResponse, name: string): string[] {
  const value = response.headers[name.toLowerCase()];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The first value of a header. */
export function headerValue(response: HttpResponse, name: string): string | undefined {
  return headerValues(response, name)[0];
}

/**
 * Reads a whole body into memory, for small documents only (manifests,
 * JSON, error bodies): refuses before reading when Content-Length is over
 * the limit, and stops as soon as the bytes read pass it. Either way the
 * stream is destroyed, so a hostile server cannot make us read on.
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
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.byteLength;
    if (size > limit) {
      abandon(response);
      throw new SizeLimitError(what, limit);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, size);
}

export async function readText(response: HttpResponse, limit: number, what?: string): Promise<string> {
  return (await readBytes(response, limit, what)).toString("utf8");
}

/** Parsed but unvalidated JSON: callers check its shape with a schema. */
export async function readJson(response: HttpResponse, limit: number, what = "response"): Promise<unknown> {
  const text = await readText(response, limit, what);
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError(`${what}: response is not valid JSON`);
  }
}

/** Error bodies are small JSON documents; anything larger is not worth reading. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * The body of a failed response, when there is one worth reading (not for
 * HEAD, not over 64 KiB); the connection is freed either way.
 */
export async function readErrorBody(response: HttpResponse): Promise<string | undefined> {
  const text =
    response.request.method === "HEAD"
      ? undefined
      : await readText(response, MAX_ERROR_BODY).catch(() => undefined);
  if (text === undefined) await discard(response);
  return text;
}

/** Bodies up to this size are drained so their connection is reused; larger ones are cut. */
const DRAIN_LIMIT = 128 * 1024;
/** A server that stalls while we drain must not hold the caller for the whole idle timeout. */
const DRAIN_TIMEOUT_MS = 5000;

/**
 * Frees the connection behind a response nobody wants to read: a short
 * remainder is drained so the keep-alive socket goes back to the pool; a
 * long or stalled one is cut. Never throws.
 */
export async function discard(response: HttpResponse): Promise<void> {
  const body = response.body as HttpResponse["body"] & {
    dump?: (opts: { limit: number; signal?: AbortSignal }) => Promise<unknown>;
  };
  if (body.readableEnded || body.destroyed) return;
  try {
    if (typeof body.dump === "function") {
      await body.dump({ limit: DRAIN_LIMIT, signal: AbortSignal.timeout(DRAIN_TIMEOUT_MS) });
    } else {
      let drained = 0;
      for await (const chunk of body) {
        drained += (chunk as Buffer).length;
        if (drained > DRAIN_LIMIT) break;
      }
    }
  } catch {
    // the connection is gone either way
  } finally {
    if (!body.readableEnded) abandon(response);
  }
}

/**
 * Stops reading a body on purpose. Destroying an unfinished body makes it
 * emit an abort error; nobody is listening for that one, and it must not
 * become an uncaught exception.
 */
export function abandon(response: HttpResponse): void {
  response.body.on("error", () => undefined);
  response.body.destroy();
}
