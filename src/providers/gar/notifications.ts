import type { IncomingHttpHeaders } from "node:http";
import type { OAuth2Client } from "google-auth-library";
import { AuthenticationError, truncate, WebhookPayloadError } from "../../core/errors.js";
import { garLocation } from "../../core/providers.js";
import { parseReference } from "../../core/reference.js";
import type { WebhookParser } from "../webhooks/receiver.js";

/** One Artifact Registry notification (Pub/Sub topic `gcr`). */
export interface GarNotificationEvent {
  readonly provider: "gar";
  /** `insert` or `delete`, from the message's `action`. */
  readonly type: "insert" | "delete";
  /** The image as written in the message, without tag or digest. */
  readonly image: string;
  readonly location: string;
  readonly digest: string | undefined;
  readonly tag: string | undefined;
  readonly messageId: string | undefined;
  readonly publishTime: string | undefined;
}

const bad = (message: string) => new WebhookPayloadError(`Artifact Registry notification: ${message}`);

/** The message data (`{"action","digest","tag"}`) as a typed event; `tag` is absent when no tag is involved. */
export function parseGarNotificationData(
  data: unknown,
  meta: { messageId?: string; publishTime?: string } = {},
): GarNotificationEvent {
  if (!data || typeof data !== "object" || Array.isArray(data)) throw bad("data is not a JSON object");
  const { action, digest, tag } = data as Record<string, unknown>;
  if (action !== "INSERT" && action !== "DELETE")
    throw bad(`action must be INSERT or DELETE, got ${JSON.stringify(action)}`);
  if (digest !== undefined && typeof digest !== "string") throw bad("digest must be a string");
  if (tag !== undefined && typeof tag !== "string") throw bad("tag must be a string");
  const written = (digest ?? tag) as string | undefined;
  if (!written) throw bad("neither digest nor tag is given");
  let image: string;
  let location: string | undefined;
  let parsedDigest: string | undefined;
  let parsedTag: string | undefined;
  try {
    const d = digest ? parseReference(digest, { defaultTag: false }) : undefined;
    const t = tag ? parseReference(tag, { defaultTag: false }) : undefined;
    const ref = (d ?? t)!;
    image = `${ref.registry}/${ref.repository}`;
    location = garLocation(ref.registry);
    parsedDigest = d?.digest;
    parsedTag = t?.tag;
    if (digest && !parsedDigest) throw new Error("digest has no @sha256:…");
    if (tag && !parsedTag) throw new Error("tag has no :TAG");
  } catch (error) {
    throw bad(`invalid image reference: ${truncate((error as Error).message, 120)}`);
  }
  if (location === undefined) throw bad(`${image} is not an Artifact Registry image`);
  return {
    provider: "gar",
    type: action === "INSERT" ? "insert" : "delete",
    image,
    location,
    digest: parsedDigest,
    tag: parsedTag,
    messageId: meta.messageId,
    publishTime: meta.publishTime,
  };
}

/** A Pub/Sub push body: `{"message":{"data":<base64>,"attributes","messageId","publishTime"},"subscription"}`. */
export function parseGarPushBody(body: Buffer): GarNotificationEvent {
  let envelope: unknown;
  try {
    envelope = JSON.parse(body.toString("utf8"));
  } catch {
    throw bad("body is not JSON");
  }
  const message = (envelope as { message?: unknown } | null)?.message;
  if (!message || typeof message !== "object") throw bad("no message in the push envelope");
  const m = message as Record<string, unknown>;
  if (typeof m.data !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(m.data))
    throw bad("message.data is not base64");
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(m.data, "base64").toString("utf8"));
  } catch {
    throw bad("message.data is not base64 JSON");
  }
  const id = (m.messageId ?? m.message_id) as unknown;
  const time = (m.publishTime ?? m.publish_time) as unknown;
  return parseGarNotificationData(data, {
    ...(typeof id === "string" ? { messageId: id } : {}),
    ...(typeof time === "string" ? { publishTime: time } : {}),
  });
}

/** The stable JSON line `webhook serve --provider gar` prints per event. */
export function garEventLine(event: GarNotificationEvent): Record<string, string> {
  return {
    provider: "gar",
    type: event.type,
    image: event.image,
    location: event.location,
    ...(event.digest ? { digest: event.digest } : {}),
    ...(event.tag ? { tag: event.tag } : {}),
    ...(event.messageId ? { message_id: event.messageId } : {}),
    ...(event.publishTime ? { publish_time: event.publishTime } : {}),
  };
}

export const GOOGLE_ID_TOKEN_ISSUERS = ["https://accounts.google.com", "accounts.google.com"];

/**
 * Checks a push subscription's OIDC token (`Authorization: Bearer <JWT>`)
 * with google-auth-library: Google's signature (certificates from
 * `certs()`, Google's by default), issuer, expiry and `audience`.
 */
export function idTokenVerifier(
  client: OAuth2Client,
  audience: string,
  certs: () => Promise<Record<string, string>> = async () =>
    (await client.getFederatedSignonCertsAsync()).certs as Record<string, string>,
): (authorization: string | undefined) => Promise<void> {
  return async (authorization) => {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    if (!token)
      throw new AuthenticationError("push without an OIDC token (Authorization: Bearer …)", {
        provider: "gar",
      });
    try {
      await client.verifySignedJwtWithCertsAsync(token, await certs(), audience, GOOGLE_ID_TOKEN_ISSUERS);
    } catch (error) {
      throw new AuthenticationError(`OIDC token refused: ${truncate((error as Error).message, 160)}`, {
        provider: "gar",
      });
    }
  };
}

/** The push-subscription parser; with a verifier, a push without a valid token for the audience is refused (401). */
export function garWebhookParser(
  verify?: (authorization: string | undefined) => Promise<void>,
): WebhookParser<GarNotificationEvent> {
  return {
    provider: "gar",
    async parse(body: Buffer, headers: IncomingHttpHeaders) {
      if (verify) await verify(headers.authorization);
      return parseGarPushBody(body);
    },
  };
}
