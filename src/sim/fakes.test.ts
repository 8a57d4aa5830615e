import { afterEach, describe, expect, it } from "vitest";
import { digestOf } from "../core/digest.js";
import type { ProviderFake } from "./context.js";
import { dockerHubRateLimitHeaders } from "./dockerhub/hubShapes.js";
import { loadProviderFakes } from "./fakes.js";
import { googleError } from "./gar/googleShapes.js";
import { linkHeaderPage, pageNumberPage, pageTokenPage } from "./pagination.js";
import { type RegistryServer, startRegistryServer } from "./server.js";

let server: RegistryServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("provider fake base", () => {
  it("mounts a fake that reads the registry's storage", async () => {
    const fake: ProviderFake = {
      id: "example",
      endpoints: { "example-api": "/example" },
      mount(app, sim) {
        app.get("/example/repositories", async (c) =>
          c.json(pageNumberPage(await sim.storage.repositories(), new URL(c.req.url))),
        );
        app.get("/example/missing", (c) => googleError(c, 404, "no such thing"));
      },
    };
    server = await startRegistryServer({ providers: [fake] });
    const blob = Buffer.from("x");
    await fetch(`${server.url}/v2/org/app/blobs/uploads/?digest=${digestOf(blob)}`, {
      method: "POST",
      body: blob,
    });
    const listing = await (await fetch(`${server.url}/example/repositories?page_size=1`)).json();
    expect(listing).toEqual({ count: 1, next: null, previous: null, results: ["org/app"] });
    const missing = await fetch(`${server.url}/example/missing`);
    expect([missing.status, await missing.json()]).toEqual([
      404,
      { error: { code: 404, message: "no such thing", status: "NOT_FOUND" } },
    ]);
  });

  it("pages the three ways the provider APIs do", () => {
    const items = Array.from({ length: 5 }, (_, i) => i);
    const hub = pageNumberPage(items, new URL("http://h/x?page=2&page_size=2"));
    expect(hub).toMatchObject({ count: 5, results: [2, 3] });
    expect(hub.next).toBe("http://h/x?page=3&page_size=2");
    expect(hub.previous).toBe("http://h/x?page=1&page_size=2");
    const gh = linkHeaderPage(items, new URL("http://g/x?per_page=2"));
    expect(gh.items).toEqual([0, 1]);
    expect(gh.link).toBe(
      '<http://g/x?per_page=2&page=2>; rel="next", <http://g/x?per_page=2&page=3>; rel="last"',
    );
    const first = pageTokenPage(items, new URL("http://a/x?pageSize=3"));
    expect(first.items).toEqual([0, 1, 2]);
    const second = pageTokenPage(items, new URL(`http://a/x?pageSize=3&pageToken=${first.nextPageToken}`));
    expect(second).toEqual({ items: [3, 4], nextPageToken: undefined });
  });

  it("sends rate-limit headers as Docker Hub does and refuses unknown fakes", async () => {
    expect(dockerHubRateLimitHeaders(100, 76, "1.2.3.4")).toEqual({
      "ratelimit-limit": "100;w=21600",
      "ratelimit-remaining": "76;w=21600",
      "docker-ratelimit-source": "1.2.3.4",
    });
    await expect(loadProviderFakes(["quay"])).rejects.toThrow(
      /no provider fake named "quay" \(available: [a-z, ]*\bdockerhub\b[a-z, ]*\)/,
    );
    const [hub] = await loadProviderFakes(["dockerhub"], { pullLimits: { anonymous: 7 } });
    expect(hub?.id).toBe("dockerhub");
    expect(await loadProviderFakes([])).toEqual([]);
  });
});
