/**
 * Size limits that modules on a command's start-up path need without the
 * schema code (zod) of manifest.ts, which is loaded only to parse a body.
 */

/** The OCI distribution spec lets registries refuse manifests over 4 MiB; we refuse to read them. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * What a stream between a blob's source and its destination holds before it
 * pushes back, and how much a layout's blob file is read at once: one socket
 * read (64 KiB). Each chunk is a separate ArrayBuffer, and chunks that wait
 * in a queue when V8 collects the young generation are promoted and then
 * freed only by a full GC, which external memory triggers 64 MB later. With
 * 1 MiB queues (16 reads per stream, four streams) a 4 × 64 MiB pull peaked
 * at 155–182 MB RSS; with one read each at 113–126 MB, and less CPU.
 */
export const STREAM_BUFFER_BYTES = 64 << 10;
