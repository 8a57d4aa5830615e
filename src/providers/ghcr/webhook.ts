/**
 * GitHub's `package` and `registry_package` webhooks (published, updated),
 * in the shapes of octokit/webhooks' schemas (test/reference/github). The
 * event name comes from `X-GitHub-Event`, the delivery id from
 * `X-GitHub-Delivery` (the receiver drops repeated deliveries); `ping` is
 * understood and not dispatched. Signatures (`X-Hub-Signature-256`) are
 * checked by the receiver before the payload is parsed.
 */
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { isDigest } from "../../core/digest.js";
import { truncate, WebhookPayloadError } from "../../core/errors.js";
import type { WebhookParser } from "../webhooks/receiver.js";

/** A GitHub `package` or `registry_package` delivery, verified and parsed. */
export interface GitHubPackageEvent {
  readonly provider: "github";
  /** `published` or `updated`. */
  readonly type: "published" | "updated";
  /** Which webhook: `package` or the older `registry_package`. */
  readonly event: "package" | "registry_package";
  /** The image path, `OWNER/PACKAGE` (GitHub's `namespace`, else owner and name). */
  readonly repository: string;
  readonly packageType: string;
  /** The version's manifest digest, when the payload carries a valid one. */
  readonly digest: string | undefined;
  /** The tag that was pushed (empty when GitHub sends none). */
  readonly tag: string;
  readonly versionId: number;
  readonly sender: string | undefined;
  readonly delivery: string | undefined;
  readonly at: Date;
  readonly raw: unknown;
}

const user = z.looseObject({ login: z.string().min(1) });
const pkg = z.looseObject({
  id: z.number().int(),
  name: z.string().min(1),
  namespace: z.string().optional(),
  package_type: z.string(),
  owner: user,
  created_at: z.string().optional(),
  updated_at: z.string().nullable().optional(),
  package_version: z.looseObject({
    id: z.number().int(),
    version: z.string(),
    name: z.string().optional(),
    container_metadata: z
      .looseObject({
        tag: z.looseObject({ name: z.string().optional(), digest: z.string().optional() }).optional(),
      })
      .nullable()
      .optional(),
    updated_at: z.string().optional(),
    created_at: z.string().optional(),
  }),
});
const payload = z.looseObject({
  action: z.enum(["published", "updated"]),
  package: pkg.optional(),
  registry_package: pkg.optional(),
  sender: user.optional(),
});

const EVENTS = new Set(["package", "registry_package"]);

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function time(...values: Array<string | null | undefined>): Date {
  for (const v of values) {
    const t = v ? new Date(v) : undefined;
    // GitHub sends `0001-01-01T00:00:00Z` where it has no time.
    if (t && !Number.isNaN(t.getTime()) && t.getUTCFullYear() > 1970) return t;
  }
  return new Date(0);
}

/** Parses a delivery body with its headers; `undefined` for `ping`; throws WebhookPayloadError for anything malformed. */
export function parseGitHubWebhook(
  body: Buffer,
  headers: IncomingHttpHeaders = {},
): GitHubPackageEvent | undefined {
  const name = header(headers, "x-github-event");
  if (name === "ping") return undefined;
  if (name !== undefined && !EVENTS.has(name))
    throw new WebhookPayloadError(
      `unsupported GitHub event ${JSON.stringify(truncate(name, 40))} (package, registry_package)`,
    );
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new WebhookPayloadError("payload is not UTF-8 JSON");
  }
  const parsed = payload.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new WebhookPayloadError(
      `payload: ${issue.path.join(".") || "(root)"}: ${truncate(issue.message, 120)}`,
    );
  }
  const data = parsed.data;
  const event = (name ??
    (data.registry_package ? "registry_package" : "package")) as GitHubPackageEvent["event"];
  const p = event === "package" ? data.package : data.registry_package;
  if (!p) throw new WebhookPayloadError(`payload: ${event}: required for a ${event} event`);
  const v = p.package_version;
  const digest = [v.name, v.version, v.container_metadata?.tag?.digest].find((d) => d && isDigest(d));
  const delivery = header(headers, "x-github-delivery");
  return {
    provider: "github",
    type: data.action,
    event,
    repository: p.namespace?.includes("/") ? p.namespace : `${p.owner.login}/${p.name}`,
    packageType: p.package_type,
    digest,
    tag: v.container_metadata?.tag?.name ?? "",
    versionId: v.id,
    sender: data.sender?.login,
    delivery,
    at: time(v.updated_at, v.created_at, p.updated_at, p.created_at),
    raw: json,
  };
}

/** The parser `WebhookReceiver` takes for GitHub deliveries (and their `X-GitHub-Delivery` ids). */
export const githubWebhookParser: WebhookParser<GitHubPackageEvent> = {
  provider: "github",
  parse: parseGitHubWebhook,
  deliveryId: (headers) => header(headers, "x-github-delivery"),
};

/** The stable JSON line of `webhook serve --provider github`. */
export function githubEventLine(event: GitHubPackageEvent): Record<string, string> {
  return {
    provider: "github",
    type: event.type,
    event: event.event,
    repository: event.repository,
    tag: event.tag,
    ...(event.digest ? { digest: event.digest } : {}),
    version_id: String(event.versionId),
    ...(event.sender ? { sender: event.sender } : {}),
    ...(event.delivery ? { delivery: event.delivery } : {}),
    at: event.at.toISOString(),
  };
}
