import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../core/logger.js";
import { bytesReceived } from "./requestBody.js";

/** Why a request failed, noted by the app's error handler for the request's log line. */
const failures = new WeakMap<object, string>();

/** Records that the request under `incoming` failed with `error` (its log line says so at warn). */
export function noteFailure(incoming: object | undefined, error: unknown): void {
  if (incoming) failures.set(incoming, error instanceof Error ? error.message : String(error));
}

/**
 * One pino line per request once its response is done: method, path (never
 * the query, which may carry credentials, and no headers), status, response
 * bytes, request body bytes read, whole milliseconds. At info; at warn when
 * the status is 5xx, the app noted a failure, or the connection closed
 * before the response was complete.
 */
export function requestLogger(logger: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (!logger.isLevelEnabled("warn")) return;
    const started = performance.now();
    let bytes = 0;
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((...args: unknown[]) => {
      bytes += byteLength(args[0], args[1]);
      return write(...args);
    }) as typeof res.write;
    res.end = ((...args: unknown[]) => {
      if (typeof args[0] !== "function") bytes += byteLength(args[0], args[1]);
      return end(...args);
    }) as typeof res.end;
    res.once("close", () => {
      const received = bytesReceived(req);
      const fields = {
        method: req.method,
        path: pathOf(req.url ?? ""),
        status: res.statusCode,
        bytes,
        ...(received !== undefined ? { received } : {}),
        ms: Math.round(performance.now() - started),
        remote: req.socket.remoteAddress,
      };
      const failure =
        failures.get(req) ??
        (res.writableFinished ? undefined : "connection closed before the response was complete");
      if (failure !== undefined || res.statusCode >= 500)
        logger.warn({ ...fields, ...(failure !== undefined ? { error: failure } : {}) }, "request failed");
      else logger.info(fields, "request");
    });
  };
}

function pathOf(url: string): string {
  const end = url.indexOf("?");
  const path = end === -1 ? url : url.slice(0, end);
  return path.length > 512 ? `${path.slice(0, 512)}…` : path;
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === "string")
    return Buffer.byteLength(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
  return ArrayBuffer.isView(chunk) ? chunk.byteLength : 0;
}
