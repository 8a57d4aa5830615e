import type { Context, Hono } from "hono";
import { pageNumberPage } from "../pagination.js";
import { type AccessTokens, publicView, validScopes } from "./accessTokens.js";
import { type HubFakeContext, jsonBody, valueError } from "./hubContext.js";
import type { HubClaims } from "./hubJwt.js";
import { dockerHubError } from "./hubShapes.js";

/**
 * Login (`/v2/auth/token`, and the deprecated `/v2/users/login` with its
 * second-factor answer) and personal access tokens, as the Hub API
 * description has them.
 */
export function mountHubAuth(hub: Hono, ctx: HubFakeContext): void {
  const users = () => ctx.sim.users;
  const login = (c: Context, username: string, secret: string, legacy: boolean): Response => {
    ctx.loggedIn();
    const pat = ctx.accessTokens.match(username, secret);
    const password = !pat && users().checkPassword(username, secret);
    if (!pat && !password) return dockerHubError(c, 401, "Incorrect authentication credentials");
    if (password && ctx.twoFactorUsers.includes(username)) {
      // The legacy endpoint starts a second-factor exchange; neither accepts the password alone.
      return c.json(
        {
          detail: "Require secondary authentication on MFA enabled account",
          ...(legacy ? { login_2fa_token: ctx.jwt.issue(username, "password") } : {}),
        },
        401,
      );
    }
    const token = ctx.jwt.issue(username, pat ? "pat" : "password");
    return c.json(legacy ? { token } : { access_token: token });
  };
  hub.post("/v2/auth/token", async (c) => {
    const body = await jsonBody(c);
    if (typeof body?.identifier !== "string" || typeof body.secret !== "string")
      return valueError(
        c,
        { identifier: ["required"], secret: ["required"] },
        "identifier and secret are required",
      );
    return login(c, body.identifier, body.secret, false);
  });
  hub.post("/v2/users/login", async (c) => {
    const body = await jsonBody(c);
    if (typeof body?.username !== "string" || typeof body.password !== "string")
      return valueError(
        c,
        { username: ["required"], password: ["required"] },
        "username and password are required",
      );
    return login(c, body.username, body.password, true);
  });

  const owner = (c: Context): HubClaims | Response => {
    const caller = ctx.caller(c);
    if (caller instanceof Response) return caller;
    return caller.claims ?? dockerHubError(c, 401, "authentication required");
  };
  hub.post("/v2/access-tokens", async (c) => {
    const claims = owner(c);
    if (claims instanceof Response) return claims;
    if (claims.auth !== "password")
      return dockerHubError(c, 403, "access tokens cannot be managed with an access token");
    const body = await jsonBody(c);
    const label = body?.token_label;
    if (typeof label !== "string" || label.length < 1 || label.length > 100 || !validScopes(body?.scopes))
      return valueError(
        c,
        { token_label: ["1-100 characters"], scopes: ["repo:admin|write|read|public_read"] },
        "invalid token request",
      );
    const entry = ctx.accessTokens.create(
      claims.username,
      {
        token_label: label,
        scopes: body.scopes as string[],
        ...(typeof body.expires_at === "string" ? { expires_at: body.expires_at } : {}),
      },
      { ip: "127.0.0.1", ua: c.req.header("user-agent") ?? "" },
    );
    return c.json(publicView(entry, true), 201);
  });
  hub.get("/v2/access-tokens", (c) => {
    const claims = owner(c);
    if (claims instanceof Response) return claims;
    const all = ctx.accessTokens.list(claims.username);
    const page = pageNumberPage(all, new URL(c.req.url));
    // This schema types next/previous as plain strings: absent rather than null when there is none.
    const { next, previous, ...rest } = page;
    return c.json({
      ...rest,
      ...(next ? { next } : {}),
      ...(previous ? { previous } : {}),
      active_count: all.filter((t) => t.is_active).length,
      results: page.results.map((t) => publicView(t)),
    });
  });
  const withToken = (
    c: Context,
    fn: (entry: ReturnType<AccessTokens["get"]> & object) => Response | Promise<Response>,
  ) => {
    const claims = owner(c);
    if (claims instanceof Response) return claims;
    const entry = ctx.accessTokens.get(claims.username, c.req.param("uuid") ?? "");
    return entry ? fn(entry) : dockerHubError(c, 404, "access token not found");
  };
  hub.get("/v2/access-tokens/:uuid", (c) => withToken(c, (entry) => c.json(publicView(entry))));
  hub.patch("/v2/access-tokens/:uuid", (c) =>
    withToken(c, async (entry) => {
      const body = await jsonBody(c);
      if (body?.is_active !== undefined && typeof body.is_active !== "boolean")
        return valueError(c, { is_active: ["must be a boolean"] }, "invalid patch");
      ctx.accessTokens.update(entry, {
        ...(typeof body?.token_label === "string" ? { token_label: body.token_label } : {}),
        ...(typeof body?.is_active === "boolean" ? { is_active: body.is_active } : {}),
      });
      return c.json(publicView(entry));
    }),
  );
  hub.delete("/v2/access-tokens/:uuid", (c) =>
    withToken(c, (entry) => {
      ctx.accessTokens.delete(entry);
      return c.body(null, 204);
    }),
  );
}
