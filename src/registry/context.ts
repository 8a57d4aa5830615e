import type { RegkitError } from "../core/errors.js";
import { ProtocolError } from "../core/errors.js";
import { discard, headerValue, readErrorBody } from "../transport/response.js";
import type { EndpointPolicy } from "../transport/scheme.js";
import type { Handler, HttpMethod, HttpRequest, HttpResponse, RequestBody } from "../transport/types.js";
import { ManifestCache } from "./manifestCache.js";
import type { DiskManifestCache } from "./manifestDiskCache.js";
import { imageAttributes, Telemetry } from "./telemetry.js";

export interface CallOptions {
  method: HttpMethod;
  /** Path below the registry root (`/v2/...`) or an absolute URL the registry handed out. */
  path: string | URL;
  query?: Record<string, string | string[] | undefined>;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Statuses that count as success; anything else becomes a typed error. */
  expect: number[];
  operation: string;
  scopes?: string[];
  signal?: AbortSignal;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  /** Send without credentials and answer no challenge (probes). */
  anonymous?: boolean;
}

/**
 * What every registry call needs: where the registry lives and how to send.
 * Shared by the manifest, blob, upload and listing modules so status checks,
 * error mapping and URL rules live in one place.
 */
export class RegistryContext {
  readonly registry: string;
  readonly endpoint: string;
  readonly send: Handler;
  readonly provider: string | undefined;
  readonly telemetry: Telemetry;
  /** Blob uploads larger than this go up in PATCHes of this size (see RegistryOptions). */
  readonly uploadChunkSize: number | undefined;
  /** Verified manifests of this registry by repository and digest. */
  readonly manifestCache: ManifestCache;
  /** Verified manifests on disk, shared by every registry of a client and across processes. */
  readonly diskCache: DiskManifestCache | undefined;
  readonly #policy: EndpointPolicy;
  #base: Promise<URL> | undefined;

  constructor(options: {
    registry: string;
    endpoint: string;
    policy: EndpointPolicy;
    send: Handler;
    provider?: string;
    telemetry?: Telemetry;
    manifestCache?: ManifestCache;
    diskCache?: DiskManifestCache;
    /** A base URL fixed by configuration (no scheme probing). */
    baseUrl?: URL;
    uploadChunkSize?: number;
  }) {
    this.registry = options.registry;
    this.endpoint = options.endpoint;
    this.send = options.send;
    this.provider = options.provider;
    this.uploadChunkSize = options.uploadChunkSize;
    this.#policy = options.policy;
    this.telemetry = options.telemetry ?? new Telemetry();
    this.manifestCache = options.manifestCache ?? new ManifestCache();
    this.diskCache = options.diskCache;
    // Validate the host now, so a bad one fails before any request.
    options.policy.baseUrl(options.endpoint);
    if (options.baseUrl) this.#base = Promise.resolve(options.baseUrl);
  }

  /** Where the registry's API lives (`https://host/`, or `http://` where allowed). */
  baseUrl(): Promise<URL> {
    this.#base ??= this.#policy.resolveBaseUrl(this.endpoint, (url) => this.#speaksTls(url));
    return this.#base;
  }

  /** Any HTTP answer over TLS means the registry speaks HTTPS. */
  async #speaksTls(url: URL): Promise<boolean> {
    try {
      const response = await this.send({
        method: "GET",
        url: new URL("/v2/", url),
        headers: {},
        timeoutMs: 5000,
        operation: "probe",
        anonymous: true,
      });
      await discard(response);
      return true;
    } catch {
      return false;
    }
  }

  async url(path: string | URL, query?: CallOptions["query"]): Promise<URL> {
    const url = typeof path === "string" ? new URL(path, await this.baseUrl()) : new URL(path.href);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, v);
    }
    return url;
  }

  /**
   * Resolves a URL the registry returned (upload `Location`, pagination
   * `Link`) and refuses one on another origin: following it would hand our
   * credentials and content to a host the user never named.
   */
  sameOriginUrl(location: string, relativeTo: URL, what: string): URL {
    let url: URL;
    try {
      url = new URL(location, relativeTo);
    } catch {
      throw new ProtocolError(`${this.registry}: invalid ${what} URL`);
    }
    if (url.origin !== relativeTo.origin) {
      throw new ProtocolError(`${this.registry}: ${what} points to another origin (${url.origin})`);
    }
    return url;
  }

  /** Runs a registry operation in its span (`oci.manifest.get` …) with its metrics. */
  operation<T>(
    operation: string,
    repository: string,
    reference: string | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    return this.telemetry.operation(
      this.registry,
      operation,
      imageAttributes(this.registry, repository, reference),
      fn,
    );
  }

  async call(options: CallOptions): Promise<HttpResponse> {
    const request: HttpRequest = {
      method: options.method,
      url: await this.url(options.path, options.query),
      headers: { ...options.headers },
      operation: options.operation,
      ...(options.body !== undefined ? { body: options.body } : {}),
      ...(options.scopes ? { scopes: options.scopes } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.anonymous ? { anonymous: true } : {}),
    };
    const response = await this.send(request);
    if (options.expect.includes(response.status)) return response;
    throw await this.failure(response, options.operation);
  }

  /** Like `call`, for requests whose success body is of no interest. */
  async callAndDiscard(options: CallOptions): Promise<HttpResponse> {
    const response = await this.call(options);
    await discard(response);
    return response;
  }

  async failure(response: HttpResponse, operation: string): Promise<RegkitError> {
    const body = await readErrorBody(response);
    const retryAfterMs = parseRetryAfter(headerValue(response, "retry-after"));
    // The error-body schemas (zod) load only when there is an error to read.
    const { errorFromResponse } = await import("../core/ociErrors.js");
    return errorFromResponse({
      operation: `${operation} on ${this.registry}`,
      registry: this.registry,
      status: response.status,
      ...(body !== undefined ? { body } : {}),
      ...(this.provider ? { provider: this.provider } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
}

/** `Retry-After` is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d{1,10}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function repositoryScope(
  repository: string,
  ...actions: Array<"pull" | "push" | "delete" | "*">
): string {
  return `repository:${repository}:${actions.join(",")}`;
}
