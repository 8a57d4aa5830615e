/**
 * Docker Hub webhook payloads (test/reference/dockerhub/webhooks.md).
 * Hub documents one shape, a push. Deletes are regkit's extension: the same
 * envelope with `delete_data: {deleted_at, deleter, tag}` instead of
 * `push_data`, for relays and tools that report tag deletions.
 */
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { truncate, WebhookPayloadError } from "../../core/errors.js";
import { parseDockerHubRepository } from "../../core/names.js";
import { isValidTag } from "../../core/reference.js";
import type { WebhookParser } from "../webhooks/receiver.js";

interface DockerHubEventBase {
  readonly provider: "dockerhub";
  /** `namespace/name`, checked against Hub's naming rules. */
  readonly repository: string;
  readonly tag: string;
  readonly isPrivate?: boolean;
  /** Legacy; see sendDockerHubCallback. */
  readonly callbackUrl?: string;
  /** The parsed JSON as sent, unknown fields included. */
  readonly raw: unknown;
}

export interface DockerHubPushEvent extends DockerHubEventBase {
  readonly type: "push";
  readonly pusher: string;
  readonly pushedAt: Date;
}

export interface DockerHubDeleteEvent extends DockerHubEventBase {
  readonly type: "delete";
  readonly deleter: string;
  readonly deletedAt: Date;
}

/** A Docker Hub webhook delivery: a push, or regkit's delete extension. */
export type DockerHubWebhookEvent = DockerHubPushEvent | DockerHubDeleteEvent;

const tag = z.string().refine(isValidTag, "not a valid OCI tag");
// Seconds since the epoch, as in the reference example (`1417566161`).
const epochSeconds = z
  .number()
  .nonnegative()
  .refine((s) => Number.isFinite(new Date(s * 1000).getTime()), "not a representable time");

const repository = z.looseObject({
  repo_name: z.string().superRefine((value, ctx) => {
    try {
      parseDockerHubRepository(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
    }
  }),
  // Hub sends null for fields it has no value for; only the wrong type is refused.
  is_private: z.boolean().nullish(),
});

const envelope = {
  callback_url: z.string().nullish(),
  repository,
};

const pushPayload = z.looseObject({
  ...envelope,
  push_data: z.looseObject({
    pushed_at: epochSeconds,
    pusher: z.string(),
    tag,
    images: z.array(z.unknown()).nullish(),
  }),
});

const deletePayload = z.looseObject({
  ...envelope,
  delete_data: z.looseObject({ deleted_at: epochSeconds, deleter: z.string(), tag }),
});

function fail(message: string): WebhookPayloadError {
  return new WebhookPayloadError(`invalid Docker Hub webhook: ${message}`, { provider: "dockerhub" });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join(".") || "(body)";
  const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
  return `${field}: ${missing ? "missing" : truncate(issue.message, 160)}`;
}

function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw fail(describeIssue(result.error.issues[0] as z.core.$ZodIssue));
  return result.data;
}

function decodeJson(body: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    throw fail("body is not UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail("body is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail("body is not a JSON object");
  }
  return value as Record<string, unknown>;
}

/** Parses a Docker Hub webhook body; throws WebhookPayloadError naming the offending field. */
export function parseDockerHubWebhook(body: Uint8Array): DockerHubWebhookEvent {
  const raw = decodeJson(body);
  const isPush = Object.hasOwn(raw, "push_data");
  const isDelete = Object.hasOwn(raw, "delete_data");
  if (isPush && isDelete) throw fail("push_data and delete_data: only one may be present");
  if (!isPush && !isDelete) throw fail("push_data: missing (or delete_data for a delete)");
  const common = (payload: z.infer<z.ZodObject<typeof envelope>>) => ({
    provider: "dockerhub" as const,
    repository: payload.repository.repo_name,
    ...(typeof payload.repository.is_private === "boolean"
      ? { isPrivate: payload.repository.is_private }
      : {}),
    ...(payload.callback_url ? { callbackUrl: payload.callback_url } : {}),
    raw,
  });
  if (isPush) {
    const { push_data: data, ...payload } = validate(pushPayload, raw);
    const at = { pushedAt: new Date(data.pushed_at * 1000) };
    return { ...common(payload), type: "push", tag: data.tag, pusher: data.pusher, ...at };
  }
  const { delete_data: data, ...payload } = validate(deletePayload, raw);
  const at = { deletedAt: new Date(data.deleted_at * 1000) };
  return { ...common(payload), type: "delete", tag: data.tag, deleter: data.deleter, ...at };
}

/** Parses Docker Hub deliveries for the webhook receiver. */
export const dockerHubWebhookParser: WebhookParser<DockerHubWebhookEvent> = {
  provider: "dockerhub",
  parse: (body: Buffer, _headers: IncomingHttpHeaders) => parseDockerHubWebhook(body),
};

/**
 * The stable line `regkit webhook serve` prints per event: provider, type,
 * repository, tag, pusher or deleter, `at` (ISO 8601) and `callback_url`
 * when the payload had one.
 */
export function dockerHubEventLine(event: DockerHubWebhookEvent): Record<string, string> {
  const who: Record<string, string> =
    event.type === "push"
      ? { pusher: event.pusher, at: event.pushedAt.toISOString() }
      : { deleter: event.deleter, at: event.deletedAt.toISOString() };
  return {
    provider: event.provider,
    type: event.type,
    repository: event.repository,
    tag: event.tag,
    ...who,
    ...(event.callbackUrl ? { callback_url: event.callbackUrl } : {}),
  };
}
