import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import * as tls from "node:tls";
import type { Agent, Dispatcher } from "undici";
import requestModule from "undici/lib/api/api-request.js";
import AgentModule from "undici/lib/dispatcher/agent.js";
import { openBody } from "./body.js";
import { type EffectiveTimeouts, RequestBodyError, toTransportError } from "./transportError.js";
import type { Handler, HttpRequest, HttpResponse } from "./types.js";

export interface HttpClientOptions {
  /** Keep-alive connections per origin (default 16); concurrent requests beyond it queue. */
  connectionsPerOrigin?: number;
  /** Extra CA certificates (PEM) trusted for TLS, added to Node's defaults. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** How long an idle pooled connection is kept open (default 30 s). */
  keepAliveTimeoutMs?: number;
  /** Time allowed until response headers arrive (default 30 s); a request may override it. */
  timeoutMs?: number;
  /** Longest pause between two body chunks (default 5 min): idle time, not total time. */
  idleTimeoutMs?: number;
  /** Sent when a request has no `user-agent` header (default `regkit/<version>`). */
  userAgent?: string;
}

export const DEFAULT_CONNECTIONS_PER_ORIGIN = 16;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** undici's own connect default; a shorter headers timeout shortens it too. */
const MAX_CONNECT_TIMEOUT_MS = 10_000;
/** How long close() waits for in-flight requests before cutting them. */
const CLOSE_GRACE_MS = 1000;

const require = createRequire(import.meta.url);
const pkg = require("../../package.json") as { version: string };

/**
 * undici's Agent and its `request()` API, loaded by their own files: the
 * package's index also loads fetch, WebSocket, caches and mocks, which cost a
 * short command ~25 ms of its start-up (47 ms for the index against 20 ms for
 * these two, measured with Node 24). Same code, same behaviour as
 * `new Agent(...).request(...)`; the package pins the version these paths
 * belong to.
 */
const UndiciAgent = AgentModule as unknown as new (options: Agent.Options) => Dispatcher;
const undiciRequest = requestModule as unknown as (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;
export const DEFAULT_USER_AGENT = `regkit/${pkg.version}`;

export interface HttpClient {
  handler: Handler;
  close(): Promise<void>;
}

/**
 * The terminal handler of every pipeline: one undici Agent (a keep-alive
 * pool per origin) over HTTP/1.1, which measured faster than HTTP/2 for
 * blob transfers. Bodies stream both ways; nothing is buffered here. This is
 * also the one place the User-Agent is set.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const headersMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const connectMs = Math.min(headersMs, MAX_CONNECT_TIMEOUT_MS);
  const agent = new UndiciAgent({
    connections: options.connectionsPerOrigin ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    allowH2: false,
    connect: { timeout: connectMs, ...(options.ca ? { ca: withSystemCas(options.ca) } : {}) },
  });
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;

  const handler: Handler = async (request) => {
    const timeouts: EffectiveTimeouts = {
      connectMs,
      headersMs: request.timeoutMs ?? headersMs,
      idleMs: request.idleTimeoutMs ?? idleMs,
    };
    const headers = lowerCased(request.headers);
    headers["user-agent"] ??= userAgent;
    const body = openBody(request.body);
    if ((typeof body === "string" || body instanceof Uint8Array) && headers["content-length"] === undefined) {
      headers["content-length"] = String(
        typeof body === "string" ? Buffer.byteLength(body) : body.byteLength,
      );
    }
    try {
      const response = await undiciRequest.call(agent, {
        origin: request.url.origin,
        path: `${request.url.pathname}${request.url.search}`,
        method: request.method,
        headers,
        body: body ?? null,
        signal: request.signal ?? null,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.idleMs,
      });
      mapStreamErrors(response.body, request, timeouts);
      const result: HttpResponse = {
        status: response.statusCode,
        headers: response.headers as HttpResponse["headers"],
        body: response.body,
        url: request.url,
        request,
      };
      return result;
    } catch (error) {
      if (body !== undefined && typeof body === "object" && !(body instanceof Uint8Array)) {
        // The body's own failure (a copy's source going away) is not this server's.
        const bodyFault = body.errored;
        body.destroy();
        if (bodyFault && !request.signal?.aborted) throw new RequestBodyError(request, bodyFault);
      }
      throw toTransportError(error, request, timeouts);
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

function lowerCased(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = value;
  return result;
}

function withSystemCas(ca: string | Buffer | Array<string | Buffer>): Array<string | Buffer> {
  // Giving `ca` replaces Node's trust store; keep the defaults (with NODE_EXTRA_CA_CERTS) and add ours.
  const defaults =
    typeof tls.getCACertificates === "function" ? tls.getCACertificates("default") : tls.rootCertificates;
  return [...defaults, ...(Array.isArray(ca) ? ca : [ca])];
}

/**
 * Errors raised while the caller reads the body (idle timeout, socket cut)
 * become RegkitErrors by wrapping the stream's destroy callback, which every
 * failure passes through once; the chunks themselves are never touched, so
 * the body stays zero-copy.
 */
function mapStreamErrors(body: Readable, request: HttpRequest, timeouts: EffectiveTimeouts): void {
  const stream = body as Readable & {
    _destroy: (err: Error | null, callback: (err?: Error | null) => void) => void;
  };
  const original = stream._destroy.bind(stream);
  stream._destroy = (err, callback) => {
    original(err, (failure) => callback(failure ? toTransportError(failure, request, timeouts) : failure));
  };
}
