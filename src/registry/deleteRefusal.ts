import { isRegkitError, RefusedError, TagDeletionRefusedError } from "../core/errors.js";
import { type RegistryContext, repositoryScope } from "./context.js";

/** `DELETE path` for a manifest or blob of `repository`, with the refusals below said as such. */
export async function sendDelete(
  ctx: RegistryContext,
  request: { path: string; operation: string; signal?: AbortSignal | undefined },
  target: { repository: string; tag?: string; what: string },
): Promise<void> {
  await ctx
    .callAndDiscard({
      method: "DELETE",
      path: request.path,
      expect: [200, 202, 204],
      operation: request.operation,
      scopes: [repositoryScope(target.repository, "delete")],
      ...(request.signal ? { signal: request.signal } : {}),
    })
    .catch((error: unknown) => {
      throw deleteRefusal(error, { registry: ctx.registry, ...target });
    });
}

/**
 * What a registry that will not delete answers: 405 or `UNSUPPORTED` when
 * deletes are disabled (distribution's `storage.delete.enabled: false`), and
 * to a DELETE by tag, which distribution 2.8 does not implement, a 400
 * `DIGEST_INVALID` (the tag is read as a digest) where the spec says
 * `UNSUPPORTED`. Those answers become refusals that say so; any other error
 * (not found, denied, network) passes through unchanged.
 */
export function deleteRefusal(
  error: unknown,
  target: { registry: string; repository: string; tag?: string; what: string },
): unknown {
  if (!isRegkitError(error)) return error;
  const unsupported = error.status === 405 || error.code === "UNSUPPORTED";
  const tagAsDigest = target.tag !== undefined && error.status === 400 && error.code === "DIGEST_INVALID";
  if (!unsupported && !tagAsDigest) return error;
  const answer = `${error.status ?? ""} ${error.code}`.trim();
  if (target.tag !== undefined)
    return new TagDeletionRefusedError(target.registry, target.repository, target.tag, answer, {
      status: error.status,
      cause: error,
    });
  return new RefusedError(
    `${target.registry} refuses to delete ${target.what} (it answered ${answer}; deletes are disabled there)`,
    { ...(error.status !== undefined ? { status: error.status } : {}), cause: error },
  );
}
