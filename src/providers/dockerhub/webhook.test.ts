import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DOCKER_HUB_WEBHOOK_EXAMPLE,
  EXAMPLE_CALLBACK_URL,
  EXAMPLE_EVENT_LINE,
} from "../../../test/support/dockerhubWebhook.js";
import { thrownBy } from "../../../test/support/thrown.js";
import { isRegkitError, WebhookPayloadError } from "../../core/errors.js";
import { dockerHubEventLine, dockerHubWebhookParser, parseDockerHubWebhook } from "./webhook.js";

const EXAMPLE = readFileSync(DOCKER_HUB_WEBHOOK_EXAMPLE);
const example = () => JSON.parse(EXAMPLE.toString("utf8")) as Record<string, Record<string, unknown>>;
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

function deletePayload(): Record<string, unknown> {
  const { push_data: _, ...rest } = example();
  return { ...rest, delete_data: { deleted_at: 1700000000, deleter: "cleanupbot", tag: "v1.2.3" } };
}

function failure(body: Uint8Array): WebhookPayloadError {
  return thrownBy(WebhookPayloadError, () => parseDockerHubWebhook(body));
}

describe("Docker Hub webhook payloads", () => {
  it("parses the reference example into a push event", () => {
    const event = parseDockerHubWebhook(EXAMPLE);
    expect(event).toEqual({
      provider: "dockerhub",
      type: "push",
      repository: "svendowideit/testhook",
      tag: "latest",
      pusher: "trustedbuilder",
      pushedAt: new Date("2014-12-03T00:22:41.000Z"),
      isPrivate: true,
      callbackUrl: EXAMPLE_CALLBACK_URL,
      raw: example(),
    });
    expect(dockerHubWebhookParser.parse(EXAMPLE, {})).toEqual(event);
    expect(dockerHubEventLine(event)).toEqual(EXAMPLE_EVENT_LINE);
  });

  it("parses regkit's delete extension", () => {
    const event = parseDockerHubWebhook(bytes(deletePayload()));
    expect(event).toMatchObject({
      type: "delete",
      repository: "svendowideit/testhook",
      tag: "v1.2.3",
      deleter: "cleanupbot",
      deletedAt: new Date(1700000000 * 1000),
    });
    expect(dockerHubEventLine(event)).toEqual({
      provider: "dockerhub",
      type: "delete",
      repository: "svendowideit/testhook",
      tag: "v1.2.3",
      deleter: "cleanupbot",
      at: "2023-11-14T22:13:20.000Z",
      callback_url: example().callback_url,
    });
  });

  it("needs only the required fields and leaves out absent optional ones", () => {
    const minimal = {
      push_data: { pushed_at: 0, pusher: "me", tag: "1.0" },
      repository: { repo_name: "acme1/app" },
    };
    const event = parseDockerHubWebhook(bytes(minimal));
    expect(event).toEqual({
      provider: "dockerhub",
      type: "push",
      repository: "acme1/app",
      tag: "1.0",
      pusher: "me",
      pushedAt: new Date(0),
      raw: minimal,
    });
    expect(dockerHubEventLine(event)).not.toHaveProperty("callback_url");
  });

  it.each([
    ["push_data", "tag", undefined, "push_data.tag: missing"],
    ["push_data", "tag", 7, "push_data.tag:"],
    ["push_data", "tag", "-bad", "push_data.tag: not a valid OCI tag"],
    ["push_data", "tag", "x".repeat(129), "push_data.tag: not a valid OCI tag"],
    ["push_data", "pusher", undefined, "push_data.pusher: missing"],
    ["push_data", "pusher", ["a"], "push_data.pusher:"],
    ["push_data", "pushed_at", undefined, "push_data.pushed_at: missing"],
    ["push_data", "pushed_at", "1417566161", "push_data.pushed_at:"],
    ["push_data", "pushed_at", -1, "push_data.pushed_at:"],
    ["push_data", "pushed_at", 1e300, "push_data.pushed_at: not a representable time"],
    ["repository", "repo_name", undefined, "repository.repo_name: missing"],
    ["repository", "repo_name", 42, "repository.repo_name:"],
    ["repository", "repo_name", "testhook", "repository.repo_name: invalid Docker Hub repository"],
    ["repository", "repo_name", "Sven/testhook", "repository.repo_name: invalid Docker Hub namespace"],
    ["repository", "repo_name", "a/b/c", "repository.repo_name:"],
    ["repository", "is_private", "yes", "repository.is_private:"],
  ])("refuses %s.%s = %j, naming the field", (section, field, value, message) => {
    const payload = example();
    payload[section] = { ...payload[section], [field]: value };
    const error = failure(bytes(payload));
    expect(error.message).toContain(message);
    expect(error.category).toBe("invalid");
    expect(error.provider).toBe("dockerhub");
  });

  it("refuses payloads with neither, both, or ill-typed data sections", () => {
    const { push_data: _, ...neither } = example();
    expect(failure(bytes(neither)).message).toContain("push_data: missing");
    expect(failure(bytes({ ...deletePayload(), push_data: example().push_data })).message).toContain(
      "only one may be present",
    );
    expect(failure(bytes({ ...example(), push_data: null })).message).toContain("push_data:");
    expect(failure(bytes({ ...example(), repository: "x" })).message).toContain("repository:");
    expect(failure(bytes({ ...example(), callback_url: 5 })).message).toContain("callback_url:");
    const del = deletePayload();
    del.delete_data = { deleter: "x", tag: "t" };
    expect(failure(bytes(del)).message).toContain("delete_data.deleted_at: missing");
  });

  it("refuses bodies that are not a UTF-8 JSON object", () => {
    expect(failure(Buffer.from("not json")).message).toContain("body is not JSON");
    expect(failure(Buffer.from([0x7b, 0xff, 0x7d])).message).toContain("body is not UTF-8");
    expect(failure(Buffer.from("[1,2]")).message).toContain("not a JSON object");
    expect(failure(Buffer.from("null")).message).toContain("not a JSON object");
    expect(failure(Buffer.alloc(0)).message).toContain("body is not JSON");
  });

  it("keeps messages short when values are huge", () => {
    const payload = example();
    payload.repository = { ...payload.repository, repo_name: `${"a".repeat(100_000)}/b` };
    const error = failure(bytes(payload));
    expect(error.message.length).toBeLessThan(400);
    expect(error.message).toContain("repository.repo_name");
  });

  it("either parses or throws a RegkitError for any bytes or JSON value", () => {
    const onlyTypedErrors = (body: Uint8Array) => {
      try {
        parseDockerHubWebhook(body);
      } catch (error) {
        if (!isRegkitError(error)) throw error;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), onlyTypedErrors));
    fc.assert(fc.property(fc.jsonValue(), (value) => onlyTypedErrors(bytes(value))));
    // Shapes close to a real payload reach the field checks, not just the JSON parser.
    const nearPayload = fc.record({
      push_data: fc.record(
        {
          pushed_at: fc.oneof(fc.double(), fc.integer(), fc.string()),
          pusher: fc.jsonValue(),
          tag: fc.string(),
        },
        { requiredKeys: [] },
      ),
      repository: fc.record(
        { repo_name: fc.oneof(fc.string(), fc.constant("acme1/app")), is_private: fc.jsonValue() },
        { requiredKeys: [] },
      ),
    });
    fc.assert(fc.property(nearPayload, (value) => onlyTypedErrors(bytes(value))));
  });
});
