import { Readable } from "node:stream";
import type { RequestBody } from "./types.js";

/** Bytes, strings and factories can be sent again; a bare stream cannot. No body is trivially replayable. */
export function isReplayable(body: RequestBody | undefined): boolean {
  return (
    body === undefined || typeof body === "string" || body instanceof Uint8Array || typeof body === "function"
  );
}

/** The body to put on the wire for one attempt: a factory makes a fresh stream on every call. */
export function openBody(body: RequestBody): Readable | Uint8Array | string;
export function openBody(body: RequestBody | undefined): Readable | Uint8Array | string | undefined;
export function openBody(body: RequestBody | undefined): Readable | Uint8Array | string | undefined {
  return typeof body === "function" ? body() : body;
}

/** Length in bytes when it is known without reading the body; streams have none. */
export function bodyLength(body: RequestBody | undefined): number | undefined {
  if (body === undefined) return 0;
  if (typeof body === "string") return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return undefined;
}

export function isStream(value: unknown): value is Readable {
  return value instanceof Readable;
}
