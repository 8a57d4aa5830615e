import type { Context } from "hono";
import type { GhcrPackages } from "./packages.js";

/** Who calls the API: a user with the scopes of the token used (every scope for an account password). */
export interface Caller {
  user: string;
  scopes: readonly string[];
  token: string;
}

/** What the fake's route modules need from it: its state and how callers and owners are identified. */
export interface GhcrFakeContext {
  readonly packages: GhcrPackages;
  ownerType(login: string): "User" | "Organization" | undefined;
  mayWrite(user: string | undefined, owner: string): boolean;
  /** The caller, `null` for none, or the 401 answer for a bad token. */
  caller(c: Context): Caller | null | Response;
  linkedRepository(repository: string): string | undefined;
}
