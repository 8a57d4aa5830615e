/**
 * Size limits that modules on a command's start-up path need without the
 * schema code (zod) of manifest.ts, which is loaded only to parse a body.
 */

/** The OCI distribution spec lets registries refuse manifests over 4 MiB; we refuse to read them. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
