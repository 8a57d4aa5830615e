import type { CopyProgress } from "../copy/copy.js";
import type { CliIo } from "./context.js";

const WIDTH = 24;

function bar(done: number, total: number): string {
  const filled = total > 0 ? Math.min(WIDTH, Math.round((done / total) * WIDTH)) : WIDTH;
  return `[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}]`;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** `--progress`: `auto` is a bar on a terminal and nothing on a pipe. */
export const PROGRESS_MODES = ["auto", "bar", "plain", "none"] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** What a copy reports to, and what ends the report. */
export interface ProgressReporter {
  onProgress?: (event: CopyProgress) => void;
  done(): void;
}

const silent: ProgressReporter = { done: () => undefined };

export function progressReporter(io: CliIo, mode: ProgressMode): ProgressReporter {
  if (mode === "none" || (mode === "auto" && !io.stderr.isTTY)) return silent;
  return mode === "plain" ? plainLines(io) : progressBars(io);
}

/** Progress on a terminal; nothing at all when stderr is a pipe or a file. */
export function progressLine(io: CliIo): ProgressReporter {
  return progressReporter(io, "auto");
}

/**
 * For CI logs: one line per blob once its fate is known (copied, mounted,
 * already there), with its size, and a total at the end. No escape codes.
 */
function plainLines(io: CliIo): ProgressReporter {
  const started = performance.now();
  let bytes = 0;
  let blobs = 0;
  return {
    onProgress(event) {
      if (event.type !== "blob" || event.state === "started") return;
      blobs++;
      if (event.state === "done") bytes += event.size;
      const state = event.state === "done" ? "copied" : event.state === "skipped" ? "exists" : "mounted";
      io.stderr.write(`blob ${event.digest} ${state} ${mb(event.size)} MB\n`);
    },
    done() {
      const seconds = Math.max(0.001, (performance.now() - started) / 1000);
      io.stderr.write(`${blobs} blobs, ${mb(bytes)} MB copied in ${seconds.toFixed(1)} s\n`);
    },
  };
}

/**
 * One bar per blob in flight (bytes of its size) and a total line (blobs
 * done, bytes, rate), redrawn in place at most ten times a second.
 */
function progressBars(io: CliIo): ProgressReporter {
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
