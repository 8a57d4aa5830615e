import type { Context, Hono } from "hono";
import { type Digest, isDigest } from "../core/digest.js";
import { isValidRepository } from "../core/reference.js";
import type { TokenServer, TokenServerOptions } from "./auth/tokenServer.js";
import type { Users } from "./auth/users.js";
import type { FaultInjector, FaultOptions } from "./faults.js";
import type { HostileSpec } from "./hostile.js";
import type { RegistryStorage } from "./storage.js";

/** How the registry authenticates: not at all, with Basic users, or with Bearer JWTs from its token server. */
export type AuthMode = "none" | "basic" | "token";

/**
 * A fake of a provider's management API (Docker Hub API, GitHub Packages,
 * Artifact Registry) plugged into the registry app. It mounts its routes on
 * the app and reads the same storage, so an image pushed to the registry
 * shows up in the fake's listings. The base only knows this interface: the
 * fakes that exist are listed in `fakes.ts`, which nothing in the base imports.
 */
export interface ProviderFake {
  readonly id: string;
  /** Named endpoints it serves, as paths on the server: `{ "dockerhub-api": "/hub" }`. */
  readonly endpoints: Record<string, string>;
  /** Adjusts the registry's options before it is built (e.g. Docker Hub wants token auth). */
  configure?(options: RegistryAppOptions): RegistryAppOptions;
  mount(app: Hono, sim: SimContext): void;
}

export interface RegistryAppOptions {
  storage?: RegistryStorage;
  /** Serve the OCI 1.1 referrers API (default true); off, clients must use the tag-schema fallback. */
  referrers?: boolean;
  /** Idle lifetime of an upload session (default 1 h). */
  uploadTtlMs?: number;
  /** Refuse blobs larger than this while they stream in. */
  maxBlobBytes?: number;
  /** Page size when the client sends no `n` (default: everything, like distribution). */
  defaultPageSize?: number;
  /** `none` (default), `basic` (users), or `token` (Bearer JWTs from the built-in token server). */
  auth?: AuthMode;
  users?: Users;
  /**
   * Token server settings. Serving `/token` does not require `auth: "token"`:
   * the real distribution registry can use this server as its issuer.
   */
  tokenServer?: Omit<TokenServerOptions, "users">;
  /** Injected faults (status bursts, latency, resets, truncation, trickling). */
  faults?: FaultOptions | FaultInjector;
  /** Provider API fakes mounted beside the registry, reading the same storage. */
  providers?: ProviderFake[];
  /** Hostile behaviours (wrong bytes, endless bodies, foreign redirects, …): see `hostile.ts`. */
  hostile?: HostileSpec;
}

export interface SimContext {
  storage: RegistryStorage;
  /** The registry's accounts (provider fakes add access tokens to them). */
  users: Users;
  /** The token server, when the registry issues tokens. */
  tokenServer: TokenServer | undefined;
  referrers: boolean;
  uploadTtlMs: number;
  maxBlobBytes: number;
  defaultPageSize: number | undefined;
}

/** OCI error envelope with the status the spec assigns to the code. */
export function ociError(
  c: Context,
  status: number,
  code: string,
  message: string,
  detail?: unknown,
): Response {
  return c.json({ errors: [{ code, message, ...(detail !== undefined ? { detail } : {}) }] }, status as 400);
}

/** The repository name of the route, or an error response when it breaks the grammar. */
export function repositoryParam(c: Context): string | Response {
  const name = c.req.param("name") ?? "";
  return isValidRepository(name)
    ? name
    : ociError(c, 400, "NAME_INVALID", "invalid repository name", { name: name.slice(0, 255) });
}

export function digestParam(c: Context, param = "digest"): Digest | Response {
  const value = c.req.param(param) ?? "";
  return isDigest(value)
    ? value
    : ociError(c, 400, "DIGEST_INVALID", "invalid digest", { digest: value.slice(0, 200) });
}

/**
 * Streams a request body chunk by chunk into `sink`; returns the byte count,
 * or `undefined` when the client went away mid-body (what arrived is kept,
 * as real registries do, so the upload can resume).
 */
export async function streamBody(
  request: Request,
  sink: (chunk: Buffer) => Promise<void>,
  limit = Number.POSITIVE_INFINITY,
): Promise<{ bytes: number; overflow: boolean } | undefined> {
  let bytes = 0;
  if (!request.body) return { bytes, overflow: false };
  try {
    for await (const piece of request.body as unknown as AsyncIterable<Uint8Array>) {
      const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      bytes += chunk.byteLength;
      if (bytes > limit) return { bytes, overflow: true };
      await sink(chunk);
    }
  } catch {
    return undefined;
  }
  return { bytes, overflow: false };
}
