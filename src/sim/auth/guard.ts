import type { Context, MiddlewareHandler } from "hono";
import { type AuthMode, ociError } from "../context.js";
import { type Access, verifyJwt } from "./jwt.js";
import type { TokenServer } from "./tokenServer.js";
import type { Users } from "./users.js";

/** Requests whose mount source the caller may not read: they get an upload session instead. */
export const mountDenied = new WeakSet<Request>();

const ENDPOINT =
  /^\/v2\/(.+)\/(?:manifests\/[^/]+|blobs\/uploads\/?[^/]*|blobs\/[^/]+|tags\/list|referrers\/[^/]+)$/;

/** The access a request needs, derived from its method and path as distribution does. */
export function requiredAccess(method: string, path: string, query: URLSearchParams): Access[] {
  if (path === "/v2/" || path === "/v2") return [];
  if (path === "/v2/_catalog") return [{ type: "registry", name: "catalog", actions: ["*"] }];
  // Greedy, with the full endpoint suffix, exactly as the router matches: a lazy match
  // would check `/v2/a/manifests/x/manifests/v1` against `a` while it writes `a/manifests/x`.
  const match = ENDPOINT.exec(path);
  if (!match) return [];
  let name: string;
  try {
    name = decodeURIComponent(match[1]!); // the router decodes parameters; check what it will use
  } catch {
    return [{ type: "repository", name: "\u0000invalid", actions: ["*"] }];
  }
  const action = method === "GET" || method === "HEAD" ? "pull" : method === "DELETE" ? "delete" : "push";
  const needs: Access[] = [
    { type: "repository", name, actions: action === "push" ? ["pull", "push"] : [action] },
  ];
  const from = query.get("from");
  if (method === "POST" && query.get("mount") && from)
    needs.push({ type: "repository", name: from, actions: ["pull"] });
  return needs;
}

function covers(granted: Access[], needed: Access): boolean {
  const entry = granted.find((g) => g.type === needed.type && g.name === needed.name);
  return (
    entry !== undefined &&
    (entry.actions.includes("*") || needed.actions.every((a) => entry.actions.includes(a)))
  );
}

/**
 * Guards `/v2/` like a real registry in `basic` or `token` mode: 401 with
 * the challenge a client needs (realm, service, scope; `error=` for bad or
 * insufficient tokens). A mount whose source is not granted falls back to
 * an upload, as in distribution, instead of failing.
 */
export function authGuard(mode: AuthMode, users: Users, tokens: TokenServer | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (mode === "none") return next();
    const url = new URL(c.req.url);
    const needed = requiredAccess(c.req.method, url.pathname, url.searchParams);
    const header = c.req.header("authorization");
    if (mode === "basic") {
      if (users.fromBasicHeader(header)) return next();
      return challenge(c, 'Basic realm="regkit"');
    }
    const realm = `${url.origin}/token`;
    const scope = needed.map((a) => `${a.type}:${a.name}:${a.actions.join(",")}`).join(" ");
    const base = `Bearer realm="${realm}",service="${tokens!.service}"${scope ? `,scope="${scope}"` : ""}`;
    if (!header?.startsWith("Bearer ")) return challenge(c, base);
    const claims = verifyJwt(header.slice(7), tokens!.publicKey, {
      issuer: tokens!.issuer,
      audience: tokens!.service,
    });
    if (!claims) return challenge(c, `${base},error="invalid_token"`);
    const [primary, ...rest] = needed;
    if (primary && !covers(claims.access, primary)) return challenge(c, `${base},error="insufficient_scope"`);
    if (rest.some((a) => !covers(claims.access, a))) mountDenied.add(c.req.raw);
    return next();
  };
}

function challenge(c: Context, header: string): Response {
  const response = ociError(c, 401, "UNAUTHORIZED", "authentication required");
  response.headers.set("www-authenticate", header);
  return response;
}
