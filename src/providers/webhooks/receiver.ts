/**
 * An HTTP endpoint for registry webhooks, shared by every provider. A
 * request is dispatched only after it passed every check: path, method,
 * content type, size cap, signature (when a secret is set) and the
 * provider's own parser. Senders get 200 `{"status":"accepted"}` once the
 * event is handed to listeners; 200 rather than 202 because Docker Hub and
 * GitHub record any 2xx as a delivery and nothing is left to poll.
 */
import { EventEmitter, on } from "node:events";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type MeterProvider,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { isRegkitError, type RegkitError, SizeLimitError } from "../../core/errors.js";
import { type ProviderId, spanPrefix } from "../../core/providers.js";
import type { SecretString } from "../../core/secret.js";
import { SIGNATURE_HEADER, verifySignature } from "./signature.js";

const PROVIDERS = new Set<string>(["dockerhub", "ghcr", "gar"]);
/** Span prefixes follow the provider specs: `docker.webhook.receive`; GitHub's webhooks belong to ghcr. */
function providerId(name: string): ProviderId {
  if (name === "github") return "ghcr";
  return PROVIDERS.has(name) ? (name as ProviderId) : "oci";
}

/** What every provider's event has; providers add their own fields. */
export interface WebhookEvent {
  readonly provider: string;
  readonly type: string;
}

/**
 * Turns a verified raw body into a typed event, or throws a RegkitError
 * (answered 400). `undefined` means "understood, nothing to dispatch" (a
 * GitHub `ping`): answered 200 `{"status":"ignored"}`.
 */
export interface WebhookParser<E extends WebhookEvent = WebhookEvent> {
  readonly provider: string;
  /** May be async (a signature check that needs the sender's keys). */
  parse(body: Buffer, headers: IncomingHttpHeaders): E | undefined | Promise<E | undefined>;
  /**
   * The sender's id of a delivery (GitHub's `X-GitHub-Delivery`): a delivery
   * seen before is answered 200 `{"status":"duplicate"}` and not dispatched again.
   */
  deliveryId?(headers: IncomingHttpHeaders): string | undefined;
}

export interface WebhookReceiverOptions<E extends WebhookEvent> {
  parser: WebhookParser<E>;
  /** The one path that accepts deliveries; default `/`. */
  path?: string;
  /** When set, every request must carry a valid X-Hub-Signature-256. */
  secret?: SecretString;
  /** Largest accepted body; default 1 MiB. */
  maxBodyBytes?: number;
  /** Time a client has to send headers and body; default 10 s. */
  timeoutMs?: number;
  /**
   * Backpressure: while it answers true, deliveries get 503 with `Retry-After`
   * (senders retry) instead of piling up in memory behind a slow consumer.
   */
  busy?: () => boolean;
  /** Where the `<provider>.webhook.receive` spans and `regkit.webhooks` counts go (global providers otherwise). */
  tracerProvider?: TracerProvider;
  meterProvider?: MeterProvider;
}

export interface WebhookRejection {
  status: number;
  reason: string;
}

interface ReceiverEvents<E> {
  event: [E];
  rejected: [WebhookRejection];
  /** A listener threw: the sender already has its 200, so the error is only reported. */
  dispatchError: [unknown, E];
  close: [];
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Delivery ids remembered for de-duplication; the oldest are forgotten first. */
const REMEMBERED_DELIVERIES = 10_000;
const LINGER_MS = 1000;

class Rejection extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const STATUS_FOR_CATEGORY: Partial<Record<RegkitError["category"], number>> = {
  authentication: 401,
  invalid: 400,
  protocol: 400,
};

export class WebhookReceiver<E extends WebhookEvent = WebhookEvent> extends EventEmitter<ReceiverEvents<E>> {
  readonly #parser: WebhookParser<E>;
  readonly #path: string;
  readonly #secret: SecretString | undefined;
  readonly #maxBodyBytes: number;
  readonly #busy: (() => boolean) | undefined;
  readonly #server;
  readonly #deliveries = new Set<string>();
  #accepted = 0;
  #rejected = 0;
  #closed = false;

  constructor(options: WebhookReceiverOptions<E>) {
    super();
    this.#parser = options.parser;
    this.#path = options.path ?? "/";
    this.#secret = options.secret;
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#busy = options.busy;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#server = createServer({
      headersTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      // Node checks the two timeouts on this interval (30 s by default), which would let a stalled client
      // hold a connection far past its deadline.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4))),
    });
    const prefix = spanPrefix(providerId(options.parser.provider));
    const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer("regkit");
    const deliveries = (options.meterProvider ?? metrics.getMeterProvider())
      .getMeter("regkit")
      .createCounter("regkit.webhooks", { description: "Webhook deliveries by outcome" });
    this.#server.on("request", (req, res) => {
      tracer.startActiveSpan(`${prefix}.webhook.receive`, { kind: SpanKind.SERVER }, (span) => {
        this.#handle(req, res, span)
          .catch((error: unknown) => this.#reject(res, 500, errorMessage(error)))
          .finally(() => {
            span.setAttribute("http.response.status_code", res.statusCode);
            if (res.statusCode >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
            deliveries.add(1, {
              provider: options.parser.provider,
              outcome: res.statusCode < 400 ? "accepted" : "rejected",
            });
            span.end();
          });
      });
    });
  }

  get stats(): { accepted: number; rejected: number } {
    return { accepted: this.#accepted, rejected: this.#rejected };
  }

  /** Starts listening and returns the delivery URL (`http://HOST:PORT/PATH`). */
  async listen(options: { host?: string; port?: number } = {}): Promise<string> {
    const host = options.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(options.port ?? 0, host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    const { port } = this.#server.address() as AddressInfo;
    const shownHost = host.includes(":") ? `[${host}]` : host;
    return `http://${shownHost}:${port}${this.#path}`;
  }

  /**
   * Events accepted from now on, in order of acceptance. Ends after close(),
   * once the events accepted before it have been read.
   */
  events(): AsyncGenerator<E> {
    // Subscribing here, not in the generator body, so nothing accepted before the first next() is lost.
    const source = this.#closed ? undefined : on(this, "event", { close: ["close"] });
    return (async function* () {
      if (!source) return;
      for await (const [event] of source) yield event as E;
    })();
  }

  /** Stops accepting, drops idle keep-alive sockets and ends every events() iterator. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    this.#server.closeAllConnections();
    if (this.#server.listening) await closed;
    this.emit("close");
  }

  async #handle(req: IncomingMessage, res: ServerResponse, span: Span): Promise<void> {
    let event: E | undefined;
    try {
      event = await this.#accept(req);
    } catch (error) {
      if (error instanceof Rejection) {
        if (!req.complete) dropRestOfRequest(req, res);
        this.#reject(res, error.status, error.message, error.headers);
        return;
      }
      throw error;
    }
    if (event === undefined) {
      send(res, 200, { status: "ignored" });
      return;
    }
    const delivery = this.#parser.deliveryId?.(req.headers);
    if (delivery !== undefined) {
      if (this.#deliveries.has(delivery)) {
        span.setAttribute("duplicate", true);
        send(res, 200, { status: "duplicate" });
        return;
      }
      this.#deliveries.add(delivery);
      if (this.#deliveries.size > REMEMBERED_DELIVERIES)
        this.#deliveries.delete(this.#deliveries.values().next().value!);
    }
    this.#accepted += 1;
    span.setAttribute("event_type", event.type);
    const repository = (event as { repository?: unknown }).repository;
    if (typeof repository === "string") span.setAttribute("repository", repository);
    try {
      this.emit("event", event);
    } catch (error) {
      this.emit("dispatchError", error, event);
    }
    send(res, 200, { status: "accepted" });
  }

  async #accept(req: IncomingMessage): Promise<E | undefined> {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path !== this.#path) throw new Rejection(404, "not found");
    if (req.method !== "POST") throw new Rejection(405, "method not allowed", { allow: "POST" });
    if (this.#busy?.()) throw new Rejection(503, "busy: too many events waiting", { "retry-after": "5" });
    const mediaType = (req.headers["content-type"] ?? "").split(";", 1)[0]?.trim().toLowerCase();
    if (mediaType !== "application/json") throw new Rejection(415, "content type must be application/json");
    const body = await readBody(req, this.#maxBodyBytes);
    try {
      if (this.#secret) verifySignature(body, req.headers[SIGNATURE_HEADER], this.#secret);
      return await this.#parser.parse(body, req.headers);
    } catch (error) {
      const status = isRegkitError(error) ? STATUS_FOR_CATEGORY[error.category] : undefined;
      if (status === undefined) throw error;
      throw new Rejection(status, error instanceof Error ? error.message : String(error));
    }
  }

  #reject(res: ServerResponse, status: number, reason: string, headers: Record<string, string> = {}): void {
    this.#rejected += 1;
    this.emit("rejected", { status, reason });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A 500 means a parser bug: its message stays in the `rejected` event, not in the answer.
    send(res, status, { error: status === 500 ? "internal error" : reason }, headers);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/**
 * The unread rest of a refused request is discarded, not buffered, for a
 * short while and the connection then closed: closing at once with data
 * still unread makes TCP reset the connection and the client lose the answer.
 */
function dropRestOfRequest(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader("connection", "close");
  res.once("finish", () => {
    req.resume();
    setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The whole body, or a 413 as soon as it is known to be over `limit` (never buffering past it). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new Rejection(413, new SizeLimitError("webhook body", limit).message);
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  // Listeners rather than `for await`: leaving that loop early destroys the socket, and the 413 with it.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (done: () => void) => {
      req.off("data", onData).off("end", onEnd).off("close", onClose);
      done();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle(() => reject(tooLarge()));
      else chunks.push(chunk);
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks, size)));
    const onClose = () => settle(() => reject(new Rejection(400, "request body incomplete")));
    req.on("data", onData).on("end", onEnd).on("close", onClose);
  });
}
