import { randomBytes, randomUUID } from "node:crypto";
import type { Users } from "../auth/users.js";

export interface AccessToken {
  uuid: string;
  username: string;
  token: string;
  token_label: string;
  scopes: string[];
  is_active: boolean;
  created_at: string;
  last_used: string | null;
  expires_at?: string;
  client_id: string;
  creator_ip: string;
  creator_ua: string;
  generated_by: string;
}

const SCOPES = new Set(["repo:admin", "repo:write", "repo:read", "repo:public_read"]);

export function validScopes(scopes: unknown): scopes is string[] {
  return Array.isArray(scopes) && scopes.length > 0 && scopes.every((s) => SCOPES.has(s as string));
}

/**
 * Personal access tokens of the fake's accounts. An active token works as
 * the password at the Hub API login and at the registry's token endpoint,
 * as Docker Hub PATs do.
 */
export class AccessTokens {
  readonly #byUuid = new Map<string, AccessToken>();

  constructor(private readonly users: Users) {}

  create(
    username: string,
    fields: { token_label: string; scopes: string[]; expires_at?: string },
    origin: { ip: string; ua: string },
    token = `dckr_pat_${randomBytes(20).toString("base64url")}`,
  ): AccessToken {
    const entry: AccessToken = {
      uuid: randomUUID(),
      username,
      token,
      token_label: fields.token_label,
      scopes: fields.scopes,
      is_active: true,
      created_at: new Date().toISOString(),
      last_used: null,
      ...(fields.expires_at ? { expires_at: fields.expires_at } : {}),
      client_id: "HUB",
      creator_ip: origin.ip,
      creator_ua: origin.ua,
      generated_by: "manual",
    };
    this.#byUuid.set(entry.uuid, entry);
    this.users.addToken(username, token);
    return entry;
  }

  /** The active token with this secret, when it belongs to `username`. */
  match(username: string, secret: string): AccessToken | undefined {
    for (const entry of this.#byUuid.values()) {
      if (entry.username !== username || entry.token !== secret || !entry.is_active) continue;
      if (entry.expires_at && Date.parse(entry.expires_at) <= Date.now()) continue;
      entry.last_used = new Date().toISOString();
      return entry;
    }
    return undefined;
  }

  list(username: string): AccessToken[] {
    return [...this.#byUuid.values()].filter((t) => t.username === username);
  }

  get(username: string, uuid: string): AccessToken | undefined {
    const entry = this.#byUuid.get(uuid);
    return entry?.username === username ? entry : undefined;
  }

  update(entry: AccessToken, patch: { token_label?: string; is_active?: boolean }): void {
    if (patch.token_label !== undefined) entry.token_label = patch.token_label;
    if (patch.is_active !== undefined) {
      entry.is_active = patch.is_active;
      if (patch.is_active) this.users.addToken(entry.username, entry.token);
      else this.users.removeToken(entry.username, entry.token);
    }
  }

  delete(entry: AccessToken): void {
    this.#byUuid.delete(entry.uuid);
    this.users.removeToken(entry.username, entry.token);
  }
}

/** What the API shows of a token: the secret only once, at creation. */
export function publicView(entry: AccessToken, withSecret = false): Omit<AccessToken, "username"> {
  const { username: _username, ...rest } = entry;
  return { ...rest, token: withSecret ? entry.token : "" };
}
