import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import * as tls from "node:tls";
import { Agent } from "undici";
import {
  AbortedError,
  InvalidInputError,
  isRegkitError,
  NetworkError,
  ProtocolError,
  type RegkitError,
  TimeoutError,
} from "../core/errors.js";
import { openBody } from "./body.js";
import type { Handler, HttpRequest, HttpResponse } from "./types.js";

export interface HttpClientOptions {
  /** Keep-alive connections per origin; concurrent transfers beyond it queue. */
  connectionsPerOrigin?: number;
  /** Extra CA certificates (PEM) trusted for TLS, added to Node's defaults. */
  ca?: string | Buffer | Array<string | Buffer>;
  keepAliveTimeoutMs?: number;
  /** Time allowed until response headers arrive (default 30 s). */
  timeoutMs?: number;
  /** Longest pause between two body chunks (default 5 min): idle time, not total time. */
  idleTimeoutMs?: number;
  userAgent?: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
const CLOSE_GRACE_MS = 1000;

const pkg = createRequire(import.meta.url)("../../package.json") as { version: string };
export const DEFAULT_USER_AGENT = `regkit/${pkg.version}`;

/**
 * The terminal handler of every pipeline: one undici Agent (a keep-alive
 * pool per origin) over HTTP/1.1, which measured faster than HTTP/2 for
 * blob transfers. Bodies stream both ways; nothing is buffered here.
 */
export function createHttpClient(options: HttpClientOptions = {}): {
  handler: Handler;
  close(): Promise<void>;
} {
  const agent = new Agent({
    connections: options.connectionsPerOrigin ?? 16,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    allowH2: false,
    ...(options.ca ? { connect: { ca: withSystemCas(options.ca) } } : {}),
  });
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;

  const handler: Handler = async (request) => {
    const headers: Record<string, string> = { ...request.headers };
    headers["user-agent"] ??= userAgent;
    const body = openBody(request.body);
    if ((typeof body === "string" || body instanceof Uint8Array) && headers["content-length"] === undefined) {
      headers["content-length"] = String(
        typeof body === "string" ? Buffer.byteLength(body) : body.byteLength,
      );
    }
    try {
      const response = await agent.request({
        origin: request.url.origin,
        path: `${request.url.pathname}${request.url.search}`,
        method: request.method,
        headers,
        body: body ?? null,
        signal: request.signal ?? null,
        headersTimeout: request.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        bodyTimeout: request.idleTimeoutMs ?? options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      });
      mapStreamErrors(response.body, request);
      const result: HttpResponse = {
        status: response.statusCode,
        headers: response.headers as HttpResponse["headers"],
        body: response.body,
        url: request.url,
        request,
      };
      return result;
    } catch (error) {
      if (body && typeof body === "object" && "destroy" in body) (body as Readable).destroy();
      throw toTransportError(error, request);
    }
  };

  return {
    handler,
    // Graceful first; a body nobody consumed must not hold the process for minutes.
    close: async () => {
      const timer = setTimeout(() => void agent.destroy().catch(() => undefined), CLOSE_GRACE_MS);
      try {
        await agent.close();
      } catch {
        // destroyed after the grace period
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function withSystemCas(ca: string | Buffer | Array<string | Buffer>): Array<string | Buffer> {
  // Giving `ca` replaces Node's trust store; keep the defaults (with NODE_EXTRA_CA_CERTS) and add ours.
  const defaults =
    typeof tls.getCACertificates === "function" ? tls.getCACertificates("default") : tls.rootCertificates;
  return [...defaults, ...(Array.isArray(ca) ? ca : [ca])];
}

/**
 * Errors raised while the caller reads the body (idle timeout, socket cut)
 * are mapped to RegkitErrors by wrapping the stream's destroy callback, so
 * no extra Transform copies every chunk.
 */
function mapStreamErrors(body: Readable, request: HttpRequest): void {
  const stream = body as Readable & {
    _destroy: (err: Error | null, cb: (err?: Error | null) => void) => void;
  };
  const original = stream._destroy.bind(stream);
  stream._destroy = (err, callback) => {
    original(err, (mapped) => callback(mapped ? toTransportError(mapped, request) : mapped));
  };
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);

/** Maps undici and system errors to the RegkitError hierarchy, naming only the origin. */
export function toTransportError(error: unknown, request: HttpRequest): RegkitError {
  if (isRegkitError(error)) return error;
  const where = `${request.method} ${request.url.origin}`;
  const err = error as { code?: string; name?: string; message?: string; cause?: unknown };
  const code = err?.code ?? (err?.cause as { code?: string } | undefined)?.code;
  if (
    request.signal?.aborted ||
    err?.name === "AbortError" ||
    code === "UND_ERR_ABORTED" ||
    code === "UND_ERR_ABORT"
  ) {
    return new AbortedError(`${where}: aborted`, { cause: error });
  }
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
    return new TimeoutError(`${where}: waiting for the response`, request.timeoutMs ?? DEFAULT_TIMEOUT_MS, {
      cause: error,
    });
  }
  if (code === "UND_ERR_BODY_TIMEOUT") {
    return new TimeoutError(`${where}: body idle`, request.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, {
      cause: error,
    });
  }
  if (code === "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH") {
    return new InvalidInputError(`${where}: request body length differs from its Content-Length`, {
      cause: error,
    });
  }
  if (code?.startsWith("HPE_") || code === "UND_ERR_HEADERS_OVERFLOW" || code === "UND_ERR_INFO") {
    return new ProtocolError(`${where}: malformed HTTP response`, { cause: error, retryable: true });
  }
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return new NetworkError(
      `${where}: TLS verification failed (${code}); trust the CA with NODE_EXTRA_CA_CERTS or use --insecure-registry for plain HTTP`,
      { cause: error, retryable: false, code: "TLS" },
    );
  }
  if (code && /SSL|TLS/.test(code)) {
    return new NetworkError(`${where}: TLS handshake failed (${code}); the server may not speak HTTPS`, {
      cause: error,
      retryable: false,
      code: "TLS",
    });
  }
  const reason = code && NETWORK_CODES.has(code) ? code : (err?.message ?? "request failed").slice(0, 200);
  return new NetworkError(`${where}: ${reason}`, { cause: error });
}
