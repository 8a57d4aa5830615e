import type { Hono } from "hono";
import { MediaType } from "../../core/mediaTypes.js";
import { digestParam, ociError, repositoryParam, type SimContext } from "../context.js";
import { ociPage } from "../pagination.js";

export function mountListings(app: Hono, sim: SimContext): void {
  app.get("/v2/_catalog", async (c) => {
    const page = ociPage(
      await sim.storage.repositories(),
      c.req.query(),
      "/v2/_catalog",
      sim.defaultPageSize,
    );
    if ("error" in page) return ociError(c, 400, "PAGINATION_NUMBER_INVALID", page.error);
    return c.json({ repositories: page.items }, 200, page.link ? { link: page.link } : {});
  });

  app.get("/v2/:name{.+}/tags/list", async (c) => {
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    if (!(await sim.storage.hasRepository(name))) {
      return ociError(c, 404, "NAME_UNKNOWN", "repository name not known to registry", { name });
    }
    const path = `/v2/${name}/tags/list`;
    const page = ociPage(await sim.storage.tags(name), c.req.query(), path, sim.defaultPageSize);
    if ("error" in page) return ociError(c, 400, "PAGINATION_NUMBER_INVALID", page.error);
    return c.json({ name, tags: page.items }, 200, page.link ? { link: page.link } : {});
  });

  app.get("/v2/:name{.+}/referrers/:digest", async (c) => {
    if (!sim.referrers) return c.text("404 page not found", 404);
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    const digest = digestParam(c);
    if (digest instanceof Response) return digest;
    const artifactType = c.req.query("artifactType");
    const manifests = (await sim.storage.referrers(name, digest))
      .filter((m) => artifactType === undefined || m.artifactType === artifactType)
      .map((m) => ({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.bytes.byteLength,
        ...(m.artifactType ? { artifactType: m.artifactType } : {}),
        ...(m.annotations ? { annotations: m.annotations } : {}),
      }));
    const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests });
    return c.body(body, 200, {
      "content-type": MediaType.OciIndex,
      ...(artifactType !== undefined ? { "oci-filters-applied": "artifactType" } : {}),
    });
  });
}
