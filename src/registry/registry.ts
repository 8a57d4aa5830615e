import type { MeterProvider, TracerProvider } from "@opentelemetry/api";
import { type AuthOptions, authMiddleware } from "../auth/authMiddleware.js";
import type { CredentialProvider } from "../auth/credentials.js";
import { defaultCredentials } from "../auth/defaultCredentials.js";
import type { TokenCache } from "../auth/tokenCache.js";
import { ConfigurationError, InvalidInputError, InvalidReferenceError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { isValidRepository, parseRepository, registryEndpoint } from "../core/reference.js";
import { Recorder, Replayer } from "../transport/cassette.js";
import { type CircuitBreakerOptions, circuitBreakerMiddleware } from "../transport/circuitBreaker.js";
import { createTransport, type HttpClientOptions } from "../transport/index.js";
import { loggingMiddleware } from "../transport/logging.js";
import { type RateLimitOptions, RateLimitTracker, rateLimitMiddleware } from "../transport/rateLimit.js";
import { discard, headerValue } from "../transport/response.js";
import { type RetryOptions, retryMiddleware } from "../transport/retry.js";
import { EndpointPolicy } from "../transport/scheme.js";
import { tracingMiddleware } from "../transport/tracing.js";
import type { Handler, Middleware } from "../transport/types.js";
import { RegistryContext } from "./context.js";
import { aliasCredentials, endpointFor, endpointOverrides } from "./endpoints.js";
import { ManifestCache, type ManifestCacheOptions } from "./manifestCache.js";
import { DiskManifestCache } from "./manifestDiskCache.js";
import type { PagedIterable } from "./pagination.js";
import { type ListOptions, listing, Repository } from "./repository.js";
import { Telemetry } from "./telemetry.js";

/** Options of {@link Registry}: credentials, plain-HTTP hosts, resilience, telemetry, record/replay, endpoints. */
export interface RegistryOptions extends HttpClientOptions {
  /** Hosts (with or without port) that may be reached over plain HTTP. Loopback always may. */
  insecureHosts?: string[];
  /**
   * Where credentials come from. Default: the environment, then Docker's
   * config file and credential helpers. `false` for anonymous access only.
   */
  credentials?: CredentialProvider | false;
  /** Share tokens between Registry instances, or observe token requests. */
  tokenCache?: TokenCache;
  /** Called for each token request (origin, service, scopes), never with the token. */
  onTokenRequest?: (info: { origin: string; service: string | undefined; scopes: string[] }) => void;
  /** Extra transport middleware, outermost first (tracing, record/replay); inside resilience, outside auth. */
  middlewares?: Middleware[];
  /** Retry policy (default: 3 attempts per the provider specs' table); `false` disables. */
  retry?: RetryOptions | false;
  /** Per-origin circuit breaker (default: opens after 5 failures for 30 s); `false` disables. */
  circuitBreaker?: CircuitBreakerOptions | false;
  rateLimit?: Omit<RateLimitOptions, "tracker" | "logger">;
  /** pino logger (redacting secrets); silent by default. */
  logger?: Logger;
  /** Record every HTTP exchange into this HAR 1.2 cassette (written on `close()`). */
  record?: string;
  /** Serve every exchange from this cassette instead of the network. */
  replay?: string;
  /** OpenTelemetry providers; the globally registered ones (no-ops by default) otherwise. */
  tracerProvider?: TracerProvider;
  meterProvider?: MeterProvider;
  /** A ready transport to use instead of building one; the caller then owns closing it. */
  transport?: { send: Handler; policy: EndpointPolicy };
  /**
   * Where a registry really lives, by the name references use:
   * `{ "docker.io": "http://127.0.0.1:5000" }` points Docker Hub references
   * at a fake, a mirror or a proxy. Credentials stay those of the name.
   * A key starting with `*` matches every host ending in the rest:
   * `{ "*-docker.pkg.dev": URL }` sends every Artifact Registry location there.
   */
  endpoints?: Record<string, string>;
  /** Auth challenges known in advance, by origin (see AuthOptions.challenges). */
  challenges?: AuthOptions["challenges"];
  /**
   * Largest request body of a blob upload: bigger blobs go up in PATCHes of
   * this many bytes (default: one PUT whenever digest and size are known).
   * An upload's own `chunkSize` takes precedence.
   */
  uploadChunkSize?: number;
  /**
   * Verified manifests kept in memory by repository and digest, so fetching
   * a digest again costs no request (default 256 manifests, 16 MiB; `false`
   * turns it off); tag answers for `tagTtlMs` (default 0: always asked);
   * with `disk: { dir }`, also on disk, shared across processes.
   */
  manifestCache?: ManifestCacheOptions | false;
}

/** What `/v2/` answered: reachable, the auth challenge, the API version header. */
export interface PingResult {
  /** `Docker-Distribution-API-Version`, e.g. `registry/2.0`. */
  apiVersion: string | undefined;
  /** 401 means the registry is there and wants credentials. */
  status: number;
}

/**
 * Entry point of the library: one transport (connection pools, middleware)
 * shared by every repository of every registry it is asked about.
 */
export class Registry {
  /** What each registry last said about its rate limit. */
  readonly rateLimits = new RateLimitTracker();
  readonly #send: Handler;
  readonly #policy: EndpointPolicy;
  readonly #close: (() => Promise<void>) | undefined;
  readonly #contexts = new Map<string, RegistryContext>();
  readonly #telemetry: Telemetry;
  readonly #endpoints: Map<string, URL>;
  readonly #uploadChunkSize: number | undefined;
  readonly #manifestCache: ManifestCacheOptions | false;
  readonly #diskCache: DiskManifestCache | undefined;
  #recorder: Recorder | undefined;

  constructor(options: RegistryOptions = {}) {
    this.#manifestCache = options.manifestCache ?? {};
    const disk = options.manifestCache ? options.manifestCache.disk : undefined;
    this.#diskCache = disk
      ? new DiskManifestCache({
          ...disk,
          // Without a handler of its own, the warning goes where the client's other warnings go.
          ...(!disk.onError && options.logger
            ? { onError: (error) => options.logger?.warn({ dir: disk.dir }, error.message) }
            : {}),
        })
      : undefined;
    this.#telemetry = new Telemetry({
      ...(options.tracerProvider ? { tracerProvider: options.tracerProvider } : {}),
      ...(options.meterProvider ? { meterProvider: options.meterProvider } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    this.#telemetry.observeRateLimits(() => this.rateLimits.all());
    this.#endpoints = endpointOverrides(options.endpoints ?? {});
    if (
      options.uploadChunkSize !== undefined &&
      !(Number.isSafeInteger(options.uploadChunkSize) && options.uploadChunkSize > 0)
    )
      throw new ConfigurationError(
        `uploadChunkSize must be a positive integer, got ${options.uploadChunkSize}`,
      );
    this.#uploadChunkSize = options.uploadChunkSize;
    if (options.transport) {
      if (options.middlewares || options.insecureHosts) {
        throw new InvalidInputError(
          "pass either a transport or transport options (middlewares, insecureHosts), not both",
        );
      }
      this.#send = options.transport.send;
      this.#policy = options.transport.policy;
      this.#close = undefined;
    } else {
      const policy = new EndpointPolicy({ insecureHosts: options.insecureHosts ?? [] });
      const credentials =
        options.credentials === false
          ? undefined
          : aliasCredentials(options.credentials ?? defaultCredentials(), this.#endpoints);
      const auth = authMiddleware({
        policy,
        ...(credentials ? { credentials } : {}),
        ...(options.tokenCache ? { cache: options.tokenCache } : {}),
        ...(options.onTokenRequest ? { onTokenRequest: options.onTokenRequest } : {}),
        ...(options.challenges ? { challenges: options.challenges } : {}),
        ...(options.tracerProvider ? { tracerProvider: options.tracerProvider } : {}),
      });
      const logger = options.logger;
      // Outermost first: the breaker sees final outcomes, rate limits see the answer after
      // retries, retries re-run auth, and logging sees every request on the wire (tokens too).
      const resilience: Middleware[] = [
        ...(options.circuitBreaker === false
          ? []
          : [
              circuitBreakerMiddleware({
                ...options.circuitBreaker,
                ...(logger ? { logger } : {}),
                onStateChange: (origin, state) => {
                  this.#telemetry.circuit(origin, state);
                  if (options.circuitBreaker) options.circuitBreaker.onStateChange?.(origin, state);
                },
              }),
            ]),
        rateLimitMiddleware({
          tracker: this.rateLimits,
          ...options.rateLimit,
          ...(logger ? { logger } : {}),
        }),
        ...(options.retry === false
          ? []
          : [
              retryMiddleware({
                ...options.retry,
                ...(logger ? { logger } : {}),
                onRetry: (info) => {
                  this.#telemetry.retried(info.request.url.origin);
                  if (options.retry) options.retry.onRetry?.(info);
                },
              }),
            ]),
      ];
      if (options.record && options.replay) throw new InvalidInputError("record or replay, not both");
      this.#recorder = options.record ? new Recorder(options.record) : undefined;
      const innermost = this.#recorder
        ? [this.#recorder.middleware()]
        : options.replay
          ? [new Replayer(options.replay).middleware()]
          : [];
      const transport = createTransport({
        ...options,
        innermost,
        policy,
        middlewares: [
          ...resilience,
          ...(options.middlewares ?? []),
          auth,
          tracingMiddleware({
            ...(options.tracerProvider ? { tracerProvider: options.tracerProvider } : {}),
            ...(options.meterProvider ? { meterProvider: options.meterProvider } : {}),
          }),
          ...(logger ? [loggingMiddleware(logger)] : []),
        ],
      });
      this.#send = transport.send;
      this.#policy = transport.policy;
      this.#close = () => transport.close();
    }
  }

  /** The context of one registry host (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
  context(registry: string): RegistryContext {
    let ctx = this.#contexts.get(registry);
    if (!ctx) {
      const override = endpointFor(this.#endpoints, registry);
      ctx = new RegistryContext({
        registry,
        endpoint: override?.host ?? registryEndpoint(registry),
        policy: this.#policy,
        send: this.#send,
        telemetry: this.#telemetry,
        manifestCache: new ManifestCache(
          this.#manifestCache === false ? { maxEntries: 0 } : this.#manifestCache,
        ),
        ...(this.#diskCache ? { diskCache: this.#diskCache } : {}),
        ...(override ? { baseUrl: override } : {}),
        ...(this.#uploadChunkSize ? { uploadChunkSize: this.#uploadChunkSize } : {}),
      });
      this.#contexts.set(registry, ctx);
    }
    return ctx;
  }

  /** `repository("ghcr.io/acme/app")`, or `repository("127.0.0.1:5000", "a/b")`. */
  repository(nameOrRegistry: string, name?: string): Repository {
    if (name !== undefined) {
      if (!isValidRepository(name)) throw new InvalidReferenceError(name, "invalid repository name");
      return new Repository(this.context(nameOrRegistry), name);
    }
    const parsed = parseRepository(nameOrRegistry);
    return new Repository(this.context(parsed.registry), parsed.repository);
  }

  /**
   * `GET /v2/`: is there a registry, and does it want credentials? With
   * `anonymous`, no credentials are sent and no challenge answered, so a 401
   * says the registry asks for a login.
   */
  async ping(
    registry: string,
    options: { signal?: AbortSignal; anonymous?: boolean } = {},
  ): Promise<PingResult> {
    const response = await this.context(registry).call({
      method: "GET",
      path: "/v2/",
      expect: [200, 401],
      operation: "ping",
      ...(options.anonymous ? { anonymous: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await discard(response);
    return { apiVersion: headerValue(response, "docker-distribution-api-version"), status: response.status };
  }

  /**
   * Checks that the configured credentials are accepted: `GET /v2/` must
   * answer 200 once the auth layer has answered any challenge.
   */
  async verifyAccess(registry: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.context(registry).callAndDiscard({
      method: "GET",
      path: "/v2/",
      expect: [200],
      operation: "check credentials",
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Repository names (`/v2/_catalog`), across every page. */
  catalog(registry: string, options: ListOptions = {}): PagedIterable<string> {
    return listing(this.context(registry), "/v2/_catalog", "repositories", options, {
      operation: "list catalog",
      repository: "",
      scopes: ["registry:catalog:*"],
    });
  }

  /** Closes connections (and writes the cassette when recording). */
  async close(): Promise<void> {
    await this.#recorder?.save();
    await this.#close?.();
  }
}
