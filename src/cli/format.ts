/** Human formatting shared by the commands' summaries. */

/** `1 blob`, `3 blobs`, `0 blobs`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** `512 B`, `2.3 KiB`, `16.0 MiB`: never a misleading `0.0 MB` for a few bytes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** `2024-05-01T12:00:00Z`: ISO 8601 to the second, or `-` when there is no date. */
export function isoSeconds(date: Date | undefined): string {
  return date ? date.toISOString().replace(/\.\d+Z$/, "Z") : "-";
}
