import type { CopyProgress } from "../copy/copy.js";
import type { CliIo } from "./context.js";

const WIDTH = 24;

function bar(done: number, total: number): string {
  const filled = total > 0 ? Math.min(WIDTH, Math.round((done / total) * WIDTH)) : WIDTH;
  return `[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}]`;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/**
 * Progress on a terminal: one bar per blob in flight (bytes of its size) and
 * a total line (blobs done, bytes, rate), redrawn in place at most ten times
 * a second. Nothing at all when stderr is a pipe or a file.
 */
export function progressLine(io: CliIo): { onProgress?: (event: CopyProgress) => void; done(): void } {
  if (!io.stderr.isTTY) return { done: () => undefined };
  const started = performance.now();
  const active = new Map<string, { size: number; bytes: number }>();
  let bytes = 0;
  let seen = 0;
  let finished = 0;
  let drawn = 0;
  let last = 0;

  const draw = (force = false) => {
    const now = performance.now();
    if (!force && now - last < 100) return;
    last = now;
    const lines = [...active].map(
      ([digest, blob]) =>
        `  ${digest.slice(7, 19)}  ${bar(blob.bytes, blob.size)} ${mb(blob.bytes)}/${mb(blob.size)} MB`,
    );
    const seconds = Math.max(0.001, (now - started) / 1000);
    lines.push(`blobs ${finished}/${seen}  ${mb(bytes)} MB  ${(bytes / 1e6 / seconds).toFixed(1)} MB/s`);
    // Move to the first line of the previous frame, then rewrite every line.
    io.stderr.write(
      `${drawn > 1 ? `\x1b[${drawn - 1}A` : ""}\r${lines.map((l) => `\x1b[2K${l}`).join("\n")}\x1b[J`,
    );
    drawn = lines.length;
  };

  return {
    onProgress(event) {
      if (event.type === "bytes") {
        bytes += event.bytes;
        const blob = active.get(event.digest);
        if (blob) blob.bytes += event.bytes;
      } else if (event.type === "blob") {
        if (event.state === "started") {
          seen++;
          active.set(event.digest, { size: event.size, bytes: 0 });
        } else {
          if (event.state !== "done") seen++;
          finished++;
          active.delete(event.digest);
        }
      }
      draw();
    },
    done() {
      active.clear();
      draw(true);
      io.stderr.write("\n");
    },
  };
}
