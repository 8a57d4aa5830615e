import { z } from "zod";
import { AuthenticationError, AuthorizationError, ProtocolError } from "../core/errors.js";
import { SecretString } from "../core/secret.js";
import { discard, readText } from "../transport/response.js";
import type { EndpointPolicy } from "../transport/scheme.js";
import type { Handler, HttpRequest } from "../transport/types.js";
import type { Credential } from "./credentials.js";

/** A token response is a small JSON document; anything bigger is hostile. */
const MAX_TOKEN_RESPONSE = 128 * 1024;
/** The distribution token spec: absent or smaller expiries mean 60 s. */
const MIN_EXPIRES_IN_S = 60;
export const CLIENT_ID = "regkit";

const tokenResponse = z.looseObject({
  token: z.string().optional(),
  access_token: z.string().optional(),
  expires_in: z.number().optional(),
  issued_at: z.string().optional(),
  refresh_token: z.string().optional(),
});

export interface Token {
  token: SecretString;
  /** Epoch milliseconds. */
  expiresAt: number;
  refreshToken?: SecretString;
}

export interface TokenRequest {
  realm: string;
  service: string | undefined;
  scopes: string[];
  credential: Credential | undefined;
  /** Registry the token is for: named in errors. */
  registry: string;
  /** Whether the registry was reached over HTTPS: its realm must then be HTTPS too. */
  registryIsHttps?: boolean;
  send: Handler;
  policy: EndpointPolicy;
  now?: () => number;
}

/**
 * Validates the realm: an absolute http(s) URL, HTTPS unless its host may use
 * plain HTTP, and always HTTPS for a registry reached over HTTPS (credentials
 * would otherwise leave TLS at the realm, loopback or not). A realm on
 * another host is normal (Docker Hub's is auth.docker.io) and allowed.
 */
export function realmUrl(
  realm: string,
  policy: EndpointPolicy,
  registry: string,
  registryIsHttps = false,
): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new ProtocolError(`${registry}: the token realm is not a valid URL`);
  }
  if (url.username || url.password)
    throw new ProtocolError(`${registry}: the token realm carries credentials`);
  // Loopback may serve plain HTTP, but a token realm that downgrades an HTTPS registry is allowed
  // only where the user named its host insecure: Basic credentials go to the realm.
  const plainAllowed = registryIsHttps ? policy.namesInsecure(url.host) : policy.allowsPlainHttp(url.host);
  if (url.protocol === "http:" && !plainAllowed) {
    const downgrade = registryIsHttps ? " for a registry served over HTTPS" : "";
    throw new ProtocolError(
      `${registry}: refusing a token realm over plain HTTP (${url.origin})${downgrade}; use --insecure-registry ${url.host} if intended`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new ProtocolError(`${registry}: unsupported token realm scheme`);
  return url;
}

/**
 * Gets a registry token from the realm of a Bearer challenge: the OAuth2
 * POST form when an identity (refresh) token is held, else a GET, with
 * Basic credentials when there are some and anonymously otherwise.
 */
export async function fetchToken(request: TokenRequest): Promise<Token> {
  const url = realmUrl(request.realm, request.policy, request.registry, request.registryIsHttps);
  const now = request.now ?? Date.now;
  const credential = request.credential;
  let http: HttpRequest;
  if (credential?.kind === "identity-token") {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: credential.token.reveal(),
      client_id: CLIENT_ID,
    });
    if (request.service) form.set("service", request.service);
    if (request.scopes.length > 0) form.set("scope", request.scopes.join(" "));
    http = {
      method: "POST",
      url,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
      operation: "token",
    };
  } else {
    if (request.service) url.searchParams.set("service", request.service);
    for (const scope of request.scopes) url.searchParams.append("scope", scope);
    const headers: Record<string, string> = {};
    if (credential?.kind === "basic") {
      headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password.reveal()}`).toString("base64")}`;
      url.searchParams.set("account", credential.username);
    }
    http = { method: "GET", url, headers, operation: "token" };
  }
  const started = now();
  const response = await request.send(http);
  if (response.status === 401) {
    await discard(response);
    throw new AuthenticationError(
      `authentication to ${request.registry} failed: ${credential ? "the registry's token service rejected the credentials" : "the registry requires credentials"}`,
      { status: 401, registry: request.registry },
    );
  }
  if (response.status === 403) {
    await discard(response);
    throw new AuthorizationError(
      `${request.registry}: the token service denied access to ${request.scopes.join(" ") || "the registry"}`,
      { status: 403 },
    );
  }
  if (response.status !== 200) {
    await discard(response);
    throw new ProtocolError(`${request.registry}: token service answered HTTP ${response.status}`, {
      status: response.status,
      retryable: response.status >= 500,
    });
  }
  const text = await readText(response, MAX_TOKEN_RESPONSE, "token response");
  let body: z.infer<typeof tokenResponse>;
  try {
    body = tokenResponse.parse(JSON.parse(text));
  } catch {
    throw new ProtocolError(`${request.registry}: token response is not valid JSON`);
  }
  const token = body.token || body.access_token;
  if (!token) throw new ProtocolError(`${request.registry}: token response has no token`);
  const expiresIn = Math.max(
    MIN_EXPIRES_IN_S,
    Number.isFinite(body.expires_in) ? body.expires_in! : MIN_EXPIRES_IN_S,
  );
  const issued = body.issued_at ? Date.parse(body.issued_at) : Number.NaN;
  // Trust the server's issue time only when it is close to ours: clocks drift.
  const base =
    Number.isFinite(issued) && Math.abs(issued - started) < 5 * 60_000 ? Math.min(issued, started) : started;
  return {
    token: new SecretString(token),
    expiresAt: base + expiresIn * 1000,
    ...(body.refresh_token ? { refreshToken: new SecretString(body.refresh_token) } : {}),
  };
}
