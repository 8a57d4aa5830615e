import { SpanStatusCode, type TracerProvider, trace } from "@opentelemetry/api";
import {
  AuthenticationError,
  AuthorizationError,
  CredentialsRejectedError,
  isRegkitError,
  ProtocolError,
} from "../core/errors.js";
import { isReplayable } from "../transport/body.js";
import { discard, headerValue } from "../transport/response.js";
import { EndpointPolicy } from "../transport/scheme.js";
import type { Handler, HttpRequest, HttpResponse, Middleware } from "../transport/types.js";
import { type Challenge, parseChallenges, pickChallenge } from "./challenge.js";
import type { CredentialProvider, ResolvedCredential } from "./credentials.js";
import { mergeScopes } from "./scope.js";
import { TokenCache } from "./tokenCache.js";
import type { Token } from "./tokenService.js";

export interface AuthOptions {
  credentials?: CredentialProvider;
  /** Scheme rules shared with the transport (a plain-HTTP realm is refused unless allowed). */
  policy?: EndpointPolicy;
  /** Sends token requests; the same pipeline below auth, so retries and tracing apply. */
  send?: Handler;
  cache?: TokenCache;
  /** Where `auth.token` spans go (the global provider otherwise). */
  tracerProvider?: TracerProvider;
  /**
   * Challenges known before the first request, by origin (`https://registry-1.docker.io`):
   * the first request then already carries a token, saving the 401 round trip.
   */
  challenges?: Record<string, Challenge>;
  /** Called once per token request actually made (for tests and metrics). */
  onTokenRequest?: (info: { origin: string; service: string | undefined; scopes: string[] }) => void;
}

interface OriginState {
  /** The last challenge seen: tells us how to authenticate up front next time. */
  challenge?: Challenge;
  /** The challenge was configured in advance, not seen: if its token cannot be had, ask the registry. */
  presumed?: boolean;
  credential?: Promise<ResolvedCredential | undefined>;
}

/**
 * Answers registry challenges lazily: a request goes out with whatever
 * authorization is already known for its origin; a 401 is parsed, a token
 * is fetched once per scope set (single-flight, cached until 30 s before
 * expiry) and the request is re-sent once. Credentials go only to the
 * origin that challenged and to the realm it named.
 */
export function authMiddleware(options: AuthOptions = {}): Middleware {
  const cache = options.cache ?? new TokenCache();
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer("regkit");
  const policy = options.policy ?? new EndpointPolicy();
  const origins = new Map<string, OriginState>();

  const stateOf = (origin: string): OriginState => {
    let state = origins.get(origin);
    if (!state) {
      const known = options.challenges?.[origin];
      state = known ? { challenge: known, presumed: true } : {};
      origins.set(origin, state);
    }
    return state;
  };

  const credentialFor = (state: OriginState, host: string) => {
    state.credential ??= options.credentials?.resolve({ registry: host }) ?? Promise.resolve(undefined);
    return state.credential;
  };

  return {
    name: "auth",
    wrap(next: Handler): Handler {
      const send = options.send ?? next;

      async function authorization(
        request: HttpRequest,
        state: OriginState,
        scopes: string[],
      ): Promise<{ header: string; token?: Token } | undefined> {
        const challenge = state.challenge;
        if (!challenge) return undefined;
        const host = request.url.host;
        if (challenge.scheme === "basic") {
          const resolved = await credentialFor(state, host);
          if (resolved?.credential.kind !== "basic") return undefined;
          const { username, password } = resolved.credential;
          return { header: `Basic ${Buffer.from(`${username}:${password.reveal()}`).toString("base64")}` };
        }
        const service = challenge.params.service;
        const resolved = await credentialFor(state, host);
        if (resolved?.credential.kind === "registry-token")
          return { header: `Bearer ${resolved.credential.token.reveal()}` };
        const token = await cache.get(request.url.origin, service, scopes, () => {
          options.onTokenRequest?.({ origin: request.url.origin, service, scopes });
          return tracer.startActiveSpan(
            "auth.token",
            { attributes: { "server.address": host, "regkit.scopes": scopes.join(" ") } },
            (span) =>
              // The token client (and its response schemas) loads at the first challenge.
              import("./tokenService.js")
                .then(({ fetchToken }) =>
                  fetchToken({
                    realm: challenge.params.realm!,
                    service,
                    scopes,
                    credential: resolved?.credential,
                    registry: host,
                    send,
                    policy,
                  }),
                )
                .catch((error: unknown) => {
                  if (isRegkitError(error) && resolved && error.category === "authentication")
                    throw new CredentialsRejectedError(host, resolved.source, { cause: error });
                  throw error;
                })
                .catch((error: unknown) => {
                  span.recordException(error as Error);
                  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
                  throw error;
                })
                .finally(() => span.end()),
          );
        });
        return { header: `Bearer ${token.token.reveal()}`, token };
      }

      /** Credentials sent with Basic and answered 401: the same error as a token service's refusal. */
      async function rejected(state: OriginState, host: string): Promise<CredentialsRejectedError> {
        const resolved = await credentialFor(state, host);
        return new CredentialsRejectedError(host, resolved?.source ?? "the configuration");
      }

      return async (request) => {
        if (request.headers.authorization || request.anonymous) return next(request);
        const origin = request.url.origin;
        const state = stateOf(origin);
        let scopes = mergeScopes(request.scopes ?? []);
        const presumed = state.presumed ? state.challenge : undefined;
        let first: Awaited<ReturnType<typeof authorization>>;
        try {
          first = await authorization(request, state, scopes);
        } catch (error) {
          if (!presumed) throw error;
          // The token service set up in advance gave no token: the registry's own challenge decides.
          if (state.challenge === presumed) {
            state.challenge = undefined;
            state.presumed = false;
          }
          first = undefined;
        }
        const response = await next(withAuthorization(request, first?.header));
        if (response.status !== 401) return response;

        const header = headerValue(response, "www-authenticate");
        if (!header) return response;
        let challenge: Challenge;
        try {
          challenge = pickChallenge(parseChallenges(header));
        } catch (error) {
          await discard(response);
          throw new ProtocolError(`${request.url.host}: ${(error as Error).message}`, {
            cause: error,
            status: 401,
          });
        }
        if (first?.header && challenge.scheme === "basic" && state.challenge?.scheme === "basic") {
          // Our Basic credentials were refused.
          await discard(response);
          throw await rejected(state, request.url.host);
        }
        if (first?.token) cache.invalidate(origin, state.challenge?.params.service, first.token);
        state.challenge = challenge;
        state.presumed = false;
        let retry: Awaited<ReturnType<typeof authorization>>;
        try {
          if (challenge.scheme === "basic") {
            const resolved = await credentialFor(state, request.url.host);
            if (resolved?.credential.kind !== "basic") return response;
          }
          if (challenge.params.scope) scopes = mergeScopes([...scopes, challenge.params.scope]);
          if (!isReplayable(request.body)) {
            throw new AuthenticationError(
              `${request.url.host} asked for authentication after a streamed body was sent; it cannot be sent again`,
              { status: 401 },
            );
          }
          retry = await authorization(request, state, scopes);
        } catch (error) {
          // The 401 body must be released, or the connection stays busy until it times out.
          await discard(response);
          throw error;
        }
        if (!retry) return response;
        await discard(response);
        const final = await next(withAuthorization(request, retry.header));
        if (final.status === 401 && challenge.scheme === "basic") {
          await discard(final);
          throw await rejected(state, request.url.host);
        }
        if (final.status === 401 && retry.token && /error="?insufficient_scope/i.test(challengeOf(final))) {
          // A token issued to valid credentials that still lacks the scope: a permission, not a login, problem.
          const resolved = await credentialFor(state, request.url.host);
          if (resolved) {
            await discard(final);
            throw new AuthorizationError(
              `${request.url.host}: the credentials from ${resolved.source} do not grant ${scopes.join(" ") || "this request"}`,
              { status: 401, code: "DENIED" },
            );
          }
        }
        return final;
      };
    },
  };
}

function challengeOf(response: HttpResponse): string {
  return headerValue(response, "www-authenticate") ?? "";
}

function withAuthorization(request: HttpRequest, header: string | undefined): HttpRequest {
  return header ? { ...request, headers: { ...request.headers, authorization: header } } : request;
}
