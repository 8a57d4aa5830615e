import type { Context } from "hono";
import type { Digest } from "../../core/digest.js";
import type { SimContext } from "../context.js";
import type { AccessTokens } from "./accessTokens.js";
import type { HubCatalog } from "./catalog.js";
import type { HubClaims, HubJwt } from "./hubJwt.js";
import type { ScanOverview } from "./scans.js";

/** Who calls the Hub API: nobody, or the user of a valid JWT. */
export type Caller = { user?: string; claims?: HubClaims };

/** What the fake's route modules share: its state and how a caller is identified. */
export interface HubFakeContext {
  readonly sim: SimContext;
  readonly catalog: HubCatalog;
  readonly accessTokens: AccessTokens;
  readonly jwt: HubJwt;
  readonly twoFactorUsers: readonly string[];
  readonly scans: Map<Digest, ScanOverview>;
  /** The caller, or the 401 answer for a bad token. */
  caller(c: Context): Caller | Response;
  loggedIn(): void;
  /** A tag was deleted through the Hub API (webhooks). */
  tagDeleted(name: string, tag: string, user: string): void;
}

export async function jsonBody(c: Context): Promise<Record<string, unknown> | undefined> {
  try {
    const value = (await c.req.json()) as unknown;
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The API's `ValueError` body for invalid input. */
export function valueError(c: Context, fields: Record<string, string[]>, text: string): Response {
  return c.json({ fields, text }, 400);
}
