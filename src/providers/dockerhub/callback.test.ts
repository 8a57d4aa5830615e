import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigurationError, InvalidInputError, ServerError } from "../../core/errors.js";
import { checkCallbackUrl, sendDockerHubCallback } from "./callback.js";

interface Received {
  method: string;
  url: string;
  contentType: string | undefined;
  body: unknown;
}

let server: Server;
let origin: string;
const received: Received[] = [];
let status = 200;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    received.push({
      method: req.method ?? "",
      url: req.url ?? "",
      contentType: req.headers["content-type"],
      body: await readJson(req),
    });
    res.writeHead(status, status === 302 ? { location: "http://169.254.169.254/" } : {}).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("Docker Hub webhook callback", () => {
  it("posts the callback JSON to an allowlisted origin", async () => {
    received.length = 0;
    status = 200;
    await sendDockerHubCallback(
      `${origin}/u/acme/app/hook/abc/`,
      { state: "success", description: "deployed", context: "ci", target_url: "https://ci.example/1" },
      { allow: [origin] },
    );
    expect(received).toEqual([
      {
        method: "POST",
        url: "/u/acme/app/hook/abc/",
        contentType: "application/json",
        body: {
          state: "success",
          description: "deployed",
          context: "ci",
          target_url: "https://ci.example/1",
        },
      },
    ]);
  });

  it("refuses a host that is not allowlisted without sending anything", async () => {
    received.length = 0;
    const other = `http://localhost:${new URL(origin).port}/hook/`;
    await expect(sendDockerHubCallback(other, { state: "success" }, { allow: [origin] })).rejects.toThrow(
      InvalidInputError,
    );
    // The default allowlist is Docker Hub's callback host only.
    await expect(sendDockerHubCallback(`${origin}/hook/`, { state: "error" })).rejects.toThrow(
      "is not on an allowed host",
    );
    expect(received).toEqual([]);
  });

  it("allows only https for the default host and refuses tricks in the URL", () => {
    expect(checkCallbackUrl("https://registry.hub.docker.com/u/a/b/hook/1/").host).toBe(
      "registry.hub.docker.com",
    );
    for (const url of [
      "http://registry.hub.docker.com/u/a/b/hook/1/",
      "https://registry.hub.docker.com:8443/hook/",
      "https://registry.hub.docker.com.evil.example/hook/",
      "https://evil.example/?registry.hub.docker.com",
      "https://user:pw@registry.hub.docker.com/hook/",
      "file:///etc/passwd",
      "not a url",
    ]) {
      expect(() => checkCallbackUrl(url), url).toThrow(InvalidInputError);
    }
  });

  it("refuses plain-HTTP allowlist entries that are not loopback", () => {
    expect(() => checkCallbackUrl("http://hooks.example/x", ["http://hooks.example"])).toThrow(
      ConfigurationError,
    );
  });

  it("does not follow redirects and reports non-2xx answers", async () => {
    status = 302;
    await expect(
      sendDockerHubCallback(`${origin}/r`, { state: "failure" }, { allow: [origin] }),
    ).rejects.toThrow(ServerError);
    status = 500;
    await expect(
      sendDockerHubCallback(`${origin}/r`, { state: "failure" }, { allow: [origin] }),
    ).rejects.toThrow("answered 500");
    status = 200;
  });
});
