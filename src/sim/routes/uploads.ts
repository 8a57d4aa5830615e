import type { Context, Hono } from "hono";
import { type Digest, isDigest } from "../../core/digest.js";
import { mountDenied } from "../auth/guard.js";
import { ociError, repositoryParam, type SimContext } from "../context.js";
import { readBody } from "../requestBody.js";
import type { UploadState } from "../storage.js";

const START = "/v2/:name{.+}/blobs/uploads/";
const SESSION = "/v2/:name{.+}/blobs/uploads/:id";

function sessionHeaders(name: string, state: UploadState): Record<string, string> {
  return {
    location: `/v2/${name}/blobs/uploads/${state.id}`,
    range: `0-${Math.max(0, state.size - 1)}`,
    "docker-upload-uuid": state.id,
  };
}

export function mountUploads(app: Hono, sim: SimContext): void {
  const unknown = (c: Context) => ociError(c, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");

  /** The session of this repository named in the path, if it is alive. */
  async function session(c: Context, name: string): Promise<UploadState | undefined> {
    const state = await sim.storage.getUpload(c.req.param("id") ?? "");
    return state?.repository === name ? state : undefined;
  }

  /** Appends the request body; an error response when it cannot. */
  async function receive(c: Context, state: UploadState): Promise<Response | undefined> {
    const limit = sim.maxBlobBytes - state.size;
    const result = await readBody(c, (chunk) => sim.storage.appendUpload(state.id, chunk), limit);
    if (!result) return ociError(c, 400, "BLOB_UPLOAD_INVALID", "upload body interrupted");
    if (result.overflow) {
      await sim.storage.deleteUpload(state.id);
      return ociError(c, 413, "SIZE_INVALID", `blob larger than ${sim.maxBlobBytes} bytes`);
    }
    return undefined;
  }

  /** Verifies and stores; the session ends either way. */
  async function complete(c: Context, name: string, id: string, digest: Digest): Promise<Response> {
    const result = await sim.storage.completeUpload(id, digest);
    if (!result.ok) {
      return ociError(c, 400, "DIGEST_INVALID", "provided digest did not match uploaded content", {
        actual: result.actual,
      });
    }
    return c.body(null, 201, { location: `/v2/${name}/blobs/${digest}`, "docker-content-digest": digest });
  }

  const start = async (c: Context) => {
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    const mount = c.req.query("mount");
    const from = c.req.query("from");
    if (mount !== undefined && isDigest(mount) && !mountDenied.has(c.req.raw)) {
      const available = from === undefined || (await sim.storage.blobSize(from, mount)) !== undefined;
      if (available && (await sim.storage.linkBlob(name, mount))) {
        return c.body(null, 201, { location: `/v2/${name}/blobs/${mount}`, "docker-content-digest": mount });
      }
    }
    const state = await sim.storage.createUpload(name, sim.uploadTtlMs);
    const digest = c.req.query("digest");
    if (digest !== undefined) {
      if (!isDigest(digest)) return ociError(c, 400, "DIGEST_INVALID", "invalid digest");
      const failed = await receive(c, state);
      return failed ?? complete(c, name, state.id, digest);
    }
    return c.body(null, 202, sessionHeaders(name, state));
  };
  app.post(START, start);
  app.post("/v2/:name{.+}/blobs/uploads", start);

  app.get(SESSION, async (c) => {
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    const state = await session(c, name);
    return state ? c.body(null, 204, sessionHeaders(name, state)) : unknown(c);
  });

  app.patch(SESSION, async (c) => {
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    const state = await session(c, name);
    if (!state) return unknown(c);
    const contentRange = c.req.header("content-range");
    if (contentRange !== undefined) {
      const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/\d+|\/\*)?$/.exec(contentRange.trim());
      if (!match || Number(match[1]) !== state.size || Number(match[2]) < Number(match[1])) {
        return c.body(
          JSON.stringify({ errors: [{ code: "BLOB_UPLOAD_INVALID", message: "chunk out of order" }] }),
          416,
          { ...sessionHeaders(name, state), "content-type": "application/json" },
        );
      }
    }
    const failed = await receive(c, state);
    if (failed) return failed;
    const updated = await sim.storage.getUpload(state.id);
    return updated ? c.body(null, 202, sessionHeaders(name, updated)) : unknown(c);
  });

  app.put(SESSION, async (c) => {
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    const state = await session(c, name);
    if (!state) return unknown(c);
    const digest = c.req.query("digest");
    if (digest === undefined || !isDigest(digest)) {
      return ociError(c, 400, "DIGEST_INVALID", "a valid digest query parameter is required");
    }
    const failed = await receive(c, state);
    return failed ?? complete(c, name, state.id, digest);
  });

  app.delete(SESSION, async (c) => {
    const name = repositoryParam(c);
    if (name instanceof Response) return name;
    const state = await session(c, name);
    if (!state) return unknown(c);
    await sim.storage.deleteUpload(state.id);
    return c.body(null, 204);
  });
}
