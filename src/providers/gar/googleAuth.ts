import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AuthClient } from "google-auth-library";
import { AuthenticationError, ConfigurationError, isRegkitError, truncate } from "../../core/errors.js";
import { SecretString } from "../../core/secret.js";
import type { Handler } from "../../transport/types.js";
import { transportFetch } from "../transportFetch.js";
import { GAR_DEFAULTS } from "./config.js";

/** Names Google auth requests on spans and logs by their path (`google /token`). */
const googleOperation = (url: URL) => `google ${url.pathname}`;

/** The OAuth2 scope regkit asks for (Artifact Registry and Container Analysis). */
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/** Where a Google access token comes from, for `auth status`-style output (never the token). */
export type GoogleCredentialSource =
  | { kind: "access-token"; source: string }
  | { kind: "key-file"; source: string; type: string }
  | { kind: "metadata-server"; source: string };

export interface GoogleTokenSourceOptions {
  /** Regkit's transport: token requests go through it (and the token URL is mapped). */
  send: Handler;
  tokenUrl?: string;
  keyFile?: string;
  accessToken?: SecretString;
  env?: NodeJS.ProcessEnv;
  /** Refresh once this share of a token's lifetime has passed (default 0.8, specification §8.2). */
  refreshAt?: number;
  /** Start a refresh in the background at that point (default true; tests pass false). */
  background?: boolean;
  now?: () => number;
}

interface Held {
  token: SecretString;
  obtainedAt: number;
  expiresAt: number | undefined;
}

const REQUIRED: Record<string, string[]> = {
  service_account: ["client_email", "private_key"],
  authorized_user: ["client_id", "client_secret", "refresh_token"],
  external_account: ["audience", "subject_token_type", "credential_source"],
  impersonated_service_account: ["source_credentials", "service_account_impersonation_url"],
};

/** gcloud's ADC file (`gcloud auth application-default login`). */
function gcloudAdcPath(env: NodeJS.ProcessEnv): string {
  const dir = env.CLOUDSDK_CONFIG || join(env.HOME || homedir(), ".config", "gcloud");
  return join(dir, "application_default_credentials.json");
}

/** Reads and checks a credentials file before the library sees it: clear errors, no secrets in them. */
export async function readKeyFile(path: string): Promise<Record<string, unknown> & { type: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigurationError(
      `cannot read Google credentials file ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
      { provider: "gar" },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigurationError(`Google credentials file ${path} is not JSON`, { provider: "gar" });
  }
  if (!json || typeof json !== "object" || Array.isArray(json))
    throw new ConfigurationError(`Google credentials file ${path} is not a JSON object`, { provider: "gar" });
  const object = json as Record<string, unknown>;
  const type = object.type;
  if (typeof type !== "string")
    throw new ConfigurationError(`Google credentials file ${path} lacks "type"`, { provider: "gar" });
  const missing = (REQUIRED[type] ?? []).filter(
    (key) => typeof object[key] !== "string" && typeof object[key] !== "object",
  );
  if (missing.length > 0)
    throw new ConfigurationError(
      `Google credentials file ${path} (${type}) lacks ${missing.map((m) => `"${m}"`).join(", ")}`,
      {
        provider: "gar",
      },
    );
  return object as Record<string, unknown> & { type: string };
}

/**
 * OAuth2 access tokens for Google APIs through google-auth-library: a ready
 * token, a key file (service account, ADC user, external account,
 * impersonation), gcloud's ADC file, or the metadata server (workload
 * identity; `GCE_METADATA_HOST` points it elsewhere). Tokens are cached and
 * refreshed at 80 % of their lifetime, in the background when possible;
 * concurrent callers share one refresh.
 */
export class GoogleTokenSource {
  readonly #options: GoogleTokenSourceOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #now: () => number;
  #client: Promise<{ client: AuthClient | undefined; source: GoogleCredentialSource }> | undefined;
  #held: Held | undefined;
  #pending: Promise<Held> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Tokens obtained from Google (not from the cache), for tests and metrics. */
  fetched = 0;

  constructor(options: GoogleTokenSourceOptions) {
    this.#options = options;
    this.#env = options.env ?? process.env;
    this.#now = options.now ?? Date.now;
  }

  /** Which credentials are in use (resolving them on first use). */
  async source(): Promise<GoogleCredentialSource> {
    return (await this.#resolve()).source;
  }

  /** A valid access token, from the cache until 80 % of its lifetime has passed. */
  async token(): Promise<SecretString> {
    const held = this.#held;
    if (held && !this.#due(held)) return held.token;
    return (await this.#refresh()).token;
  }

  /** Drops a token the server refused, so the next call fetches a fresh one. */
  invalidate(token: SecretString): void {
    if (this.#held?.token.reveal() === token.reveal()) this.#held = undefined;
  }

  /** Stops the background refresh. */
  close(): void {
    clearTimeout(this.#timer);
  }

  #due(held: Held): boolean {
    if (held.expiresAt === undefined) return false;
    const share = this.#options.refreshAt ?? 0.8;
    return this.#now() >= held.obtainedAt + (held.expiresAt - held.obtainedAt) * share;
  }

  #refresh(): Promise<Held> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<Held> {
    const { client, source } = await this.#resolve();
    if (!client) {
      const token = this.#options.accessToken!;
      this.#held = { token, obtainedAt: this.#now(), expiresAt: undefined };
      return this.#held;
    }
    const obtainedAt = this.#now();
    // The library refreshes when a token is within the threshold of its expiry: make that "always" here,
    // since regkit decides when (80 % of the lifetime) and calls only then.
    client.eagerRefreshThresholdMillis = Number.MAX_SAFE_INTEGER / 2;
    let answer: { token?: string | null };
    try {
      answer = await client.getAccessToken();
    } catch (error) {
      throw tokenError(error, source);
    }
    if (!answer.token)
      throw new AuthenticationError(`Google token request (${source.source}) returned no token`, {
        provider: "gar",
      });
    this.fetched++;
    const expiry = client.credentials.expiry_date ?? undefined;
    const held: Held = { token: new SecretString(answer.token), obtainedAt, expiresAt: expiry ?? undefined };
    this.#held = held;
    this.#schedule(held);
    return held;
  }

  #schedule(held: Held): void {
    clearTimeout(this.#timer);
    if (held.expiresAt === undefined || this.#options.background === false) return;
    const share = this.#options.refreshAt ?? 0.8;
    const delay = Math.max(0, (held.expiresAt - held.obtainedAt) * share);
    this.#timer = setTimeout(() => {
      this.#refresh().catch(() => {
        // A failed background refresh is retried by the next caller, who then sees the error.
      });
    }, delay);
    this.#timer.unref();
  }

  #resolve() {
    this.#client ??= this.#pick();
    return this.#client;
  }

  async #pick(): Promise<{ client: AuthClient | undefined; source: GoogleCredentialSource }> {
    if (this.#options.accessToken)
      return { client: undefined, source: { kind: "access-token", source: "GOOGLE_OAUTH_ACCESS_TOKEN" } };
    const { GoogleAuth, Compute, JWT, UserRefreshClient, gcpMetadata } = await import("google-auth-library");
    const fetchImplementation = transportFetch(this.#options.send, {
      operation: googleOperation,
      urlMap: new Map([[GAR_DEFAULTS.tokenUrl, this.#options.tokenUrl ?? GAR_DEFAULTS.tokenUrl]]),
    });
    const clientOptions = { transporterOptions: { fetchImplementation } };
    const scopes = [CLOUD_PLATFORM_SCOPE];
    // Service accounts and gcloud users through their own constructors (the library's advice for
    // validated files); other kinds (external account, impersonation) through its general loader.
    const clientFor = async (json: Record<string, unknown> & { type: string }): Promise<AuthClient> => {
      const text = (key: string) => (typeof json[key] === "string" ? (json[key] as string) : undefined);
      if (json.type === "service_account")
        return new JWT({
          email: text("client_email"),
          key: text("private_key"),
          keyId: text("private_key_id"),
          scopes,
          ...clientOptions,
        });
      if (json.type === "authorized_user")
        return new UserRefreshClient({
          clientId: text("client_id"),
          clientSecret: text("client_secret"),
          refreshToken: text("refresh_token"),
          ...clientOptions,
        });
      const auth = new GoogleAuth({ credentials: json as never, scopes, clientOptions });
      return (await auth.getClient()) as AuthClient;
    };
    const fromFile = async (path: string, source: string) => {
      const json = await readKeyFile(path);
      try {
        const client = await clientFor(json);
        return { client, source: { kind: "key-file" as const, source, type: json.type } };
      } catch (error) {
        throw new ConfigurationError(
          `Google credentials file ${path}: ${truncate((error as Error).message, 160)}`,
          { provider: "gar" },
        );
      }
    };
    if (this.#options.keyFile) return fromFile(this.#options.keyFile, this.#options.keyFile);
    const adc = gcloudAdcPath(this.#env);
    if (
      await readFile(adc).then(
        () => true,
        () => false,
      )
    )
      return fromFile(adc, `gcloud ADC (${adc})`);
    // The metadata server is asked only where one is named or this machine is on Google Cloud:
    // probing 169.254.169.254 from anywhere else would only time out.
    if (this.#env.GCE_METADATA_HOST || gcpMetadata.getGCPResidency()) {
      const client = new Compute({ scopes: [CLOUD_PLATFORM_SCOPE], ...clientOptions });
      return {
        client,
        source: {
          kind: "metadata-server",
          source: `metadata server (${this.#env.GCE_METADATA_HOST ?? "169.254.169.254"})`,
        },
      };
    }
    throw new AuthenticationError(
      "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a key file, run `gcloud auth application-default login`, set GOOGLE_OAUTH_ACCESS_TOKEN, or run on Google Cloud",
      { provider: "gar", code: "CREDENTIALS_NOT_FOUND" },
    );
  }
}

/** What the token endpoint said, without the request (which holds the signed assertion). */
function tokenError(error: unknown, source: GoogleCredentialSource): Error {
  if (isRegkitError(error)) return error;
  const e = error as { message?: string; status?: number; response?: { status?: number; data?: unknown } };
  const status = e.response?.status ?? e.status;
  const data = e.response?.data as { error?: string; error_description?: string } | undefined;
  const reason = data?.error
    ? `${data.error}${data.error_description ? `: ${data.error_description}` : ""}`
    : (e.message ?? "failed");
  return new AuthenticationError(
    `Google token request (${source.source}) failed${status ? ` with HTTP ${status}` : ""}: ${truncate(reason, 200)}`,
    { provider: "gar", code: "TOKEN_REFRESH_FAILED", ...(status ? { status } : {}) },
  );
}
