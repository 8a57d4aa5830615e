import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { githubEventLine, githubWebhookParser, parseGitHubWebhook } from "./webhook.js";

const EXAMPLES = join(
  import.meta.dirname,
  "../../../test/reference/github/octokit-webhooks/payload-examples",
);

describe("GitHub package webhooks", () => {
  it("parses octokit's package example into a typed event and its stable line", async () => {
    const body = await readFile(join(EXAMPLES, "package-published.docker.payload.json"));
    const event = parseGitHubWebhook(body, { "x-github-event": "package", "x-github-delivery": "d-1" })!;
    expect(event).toMatchObject({
      provider: "github",
      type: "published",
      event: "package",
      repository: "Codertocat/hello-world",
      digest: "sha256:3da1996a8115d7616457760d9920b815241d0a03b34cf5f04e9a0e9d8de37498",
      versionId: 57755790,
      delivery: "d-1",
    });
    expect(githubEventLine(event)).toMatchObject({ version_id: "57755790", delivery: "d-1", tag: "" });
    expect(githubWebhookParser.deliveryId?.({ "x-github-delivery": "d-1" })).toBe("d-1");
  });

  it("refuses other events, other actions and payloads without the package; ping is no event", async () => {
    const body = await readFile(join(EXAMPLES, "registry_package-published.docker.payload.json"));
    expect(() => parseGitHubWebhook(body, { "x-github-event": "push" })).toThrow(/unsupported GitHub event/);
    expect(parseGitHubWebhook(Buffer.from("{}"), { "x-github-event": "ping" })).toBeUndefined();
    const json = JSON.parse(body.toString());
    expect(() =>
      parseGitHubWebhook(Buffer.from(JSON.stringify({ ...json, action: "deleted" })), {
        "x-github-event": "registry_package",
      }),
    ).toThrow(/action/);
    expect(() =>
      parseGitHubWebhook(Buffer.from(JSON.stringify({ ...json, registry_package: undefined })), {
        "x-github-event": "registry_package",
      }),
    ).toThrow(/registry_package/);
    expect(() => parseGitHubWebhook(Buffer.from([0xff, 0xfe]), {})).toThrow(/UTF-8 JSON/);
  });
});
