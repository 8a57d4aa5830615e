import type { CopyProgress } from "../copy/copy.js";
import type { CliIo } from "./context.js";

/**
 * One status line on a terminal (blobs done, bytes, rate), redrawn at most
 * ten times a second; nothing at all when stderr is a pipe or a file.
 */
export function progressLine(io: CliIo): { onProgress?: (event: CopyProgress) => void; done(): void } {
  if (!io.stderr.isTTY) return { done: () => undefined };
  const started = performance.now();
  let bytes = 0;
  let blobs = 0;
  let finished = 0;
  let last = 0;
  const draw = (force = false) => {
    const now = performance.now();
    if (!force && now - last < 100) return;
    last = now;
    const seconds = Math.max(0.001, (now - started) / 1000);
    const mb = bytes / 1e6;
    io.stderr.write(
      `\r\x1b[2Kblobs ${finished}/${blobs}  ${mb.toFixed(1)} MB  ${(mb / seconds).toFixed(1)} MB/s`,
    );
  };
  return {
    onProgress(event) {
      if (event.type === "bytes") bytes += event.bytes;
      else if (event.type === "blob" && event.state === "started") blobs++;
      else if (event.type === "blob") {
        if (event.state !== "done") blobs++;
        finished++;
      }
      draw();
    },
    done() {
      draw(true);
      io.stderr.write("\n");
    },
  };
}
