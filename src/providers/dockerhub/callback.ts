/**
 * Docker Hub's legacy webhook callback: a POST to the payload's
 * `callback_url` reporting whether the receiver's work succeeded. Docker's
 * docs call the field legacy and no longer supported, so regkit sends it
 * only when asked. The URL comes from the request body, so it is called only
 * on an allowlisted origin: a webhook must never make regkit reach an
 * arbitrary host (server-side request forgery).
 */
import {
  ConfigurationError,
  InvalidInputError,
  NetworkError,
  ServerError,
  TimeoutError,
  truncate,
} from "../../core/errors.js";
import { isLoopbackHost } from "../../transport/scheme.js";

/** The validation callback Docker Hub's webhooks accept (`state`, `description`, `context`, `target_url`). */
export interface DockerHubCallback {
  state: "success" | "failure" | "error";
  description?: string;
  context?: string;
  target_url?: string;
}

export interface CallbackOptions {
  /**
   * Hosts (HTTPS, default port) or origins allowed as callback targets.
   * Plain-HTTP origins are accepted only on loopback, for tests and local relays.
   */
  allow?: readonly string[];
  timeoutMs?: number;
}

export const DEFAULT_CALLBACK_HOSTS: readonly string[] = ["registry.hub.docker.com"];
const DEFAULT_TIMEOUT_MS = 5000;

/** The origin an allowlist entry stands for; ConfigurationError for one that is not a host or is plain HTTP off loopback. */
export function allowedOrigin(entry: string): string {
  const url = URL.parse(entry.includes("://") ? entry : `https://${entry}`);
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new ConfigurationError(`callback allowlist entry ${JSON.stringify(truncate(entry))} is not a host`);
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.host)) {
    throw new ConfigurationError(
      `callback allowlist entry ${url.origin} must use https (http only on loopback)`,
    );
  }
  return url.origin;
}

/** The callback URL, if its origin is allowlisted; otherwise an InvalidInputError and no request. */
export function checkCallbackUrl(
  callbackUrl: string,
  allow: readonly string[] = DEFAULT_CALLBACK_HOSTS,
): URL {
  const url = URL.parse(callbackUrl);
  const shown = JSON.stringify(truncate(callbackUrl, 80));
  if (!url) throw new InvalidInputError(`callback_url ${shown} is not a URL`);
  if (url.username || url.password) throw new InvalidInputError(`callback_url ${shown} carries credentials`);
  if (!allow.map(allowedOrigin).includes(url.origin)) {
    throw new InvalidInputError(`callback_url ${shown} is not on an allowed host`, {
      code: "CALLBACK_NOT_ALLOWED",
    });
  }
  return url;
}

/** Posts `callback` to `callbackUrl` after checking it against the allowlist. */
export async function sendDockerHubCallback(
  callbackUrl: string,
  callback: DockerHubCallback,
  options: CallbackOptions = {},
): Promise<void> {
  const url = checkCallbackUrl(callbackUrl, options.allow);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(callback),
      // A redirect would lead off the allowlisted origin.
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      throw new TimeoutError("Docker Hub callback", timeoutMs, { provider: "dockerhub" });
    }
    throw new NetworkError(`Docker Hub callback to ${url.origin} failed`, {
      provider: "dockerhub",
      cause: error,
    });
  }
  await response.body?.cancel();
  if (response.status < 200 || response.status > 299) {
    throw new ServerError(`Docker Hub callback to ${url.origin} answered ${response.status}`, {
      provider: "dockerhub",
      status: response.status,
    });
  }
}
