import { createHttpClient, type HttpClientOptions } from "./httpClient.js";
import { Pipeline } from "./pipeline.js";
import { redirectMiddleware } from "./redirect.js";
import { EndpointPolicy } from "./scheme.js";
import type { Handler, Middleware } from "./types.js";

export { bodyLength, isReplayable, openBody } from "./body.js";
export { type Har, type HarEntry, Recorder, Replayer, ReplayMismatchError, redactText } from "./cassette.js";
export {
  createHttpClient,
  DEFAULT_CONNECTIONS_PER_ORIGIN,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_USER_AGENT,
  type HttpClient,
  type HttpClientOptions,
} from "./httpClient.js";
export { Pipeline } from "./pipeline.js";
export { DEFAULT_MAX_REDIRECTS, type RedirectOptions, redirectMiddleware } from "./redirect.js";
export { abandon, discard, headerValue, headerValues, readBytes, readJson, readText } from "./response.js";
export { EndpointPolicy, type HostParts, isLoopbackHost, splitHost } from "./scheme.js";
export {
  type EffectiveTimeouts,
  isRequestBodyFault,
  RequestBodyError,
  toTransportError,
} from "./transportError.js";
export type { Handler, HttpMethod, HttpRequest, HttpResponse, Middleware, RequestBody } from "./types.js";

export interface TransportOptions extends HttpClientOptions {
  insecureHosts?: string[];
  /**
   * A policy to share with layers above (auth checks realms with it). It wins over insecureHosts,
   * which is then expected to be the list it was built from; otherwise one is built from that list.
   */
  policy?: EndpointPolicy;
  /** Outermost first; they wrap the redirect policy and the network. */
  middlewares?: Middleware[];
  /** Below the redirect policy, next to the network: record/replay of wire exchanges. */
  innermost?: Middleware[];
}

export interface Transport {
  pipeline: Pipeline;
  policy: EndpointPolicy;
  send: Handler;
  close(): Promise<void>;
}

/**
 * The default chain: caller middleware (auth, retry, tracing, record/replay
 * as later layers add them), then redirects, then the network.
 */
export function createTransport(options: TransportOptions = {}): Transport {
  const policy =
    options.policy ??
    new EndpointPolicy(options.insecureHosts ? { insecureHosts: options.insecureHosts } : {});
  const client = createHttpClient(options);
  const pipeline = new Pipeline(client.handler, [
    ...(options.middlewares ?? []),
    redirectMiddleware({ policy }),
    ...(options.innermost ?? []),
  ]);
  return { pipeline, policy, send: (request) => pipeline.send(request), close: () => client.close() };
}
