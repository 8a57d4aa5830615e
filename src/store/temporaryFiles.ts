import { rmSync } from "node:fs";

/**
 * Temporary files and directories being written by any store, process-wide,
 * so that an interrupted run (Ctrl-C) can remove every one of them, whichever
 * store made it: layouts, docker and OCI archives alike.
 */
const pending = new Set<string>();

/** Registers `path`; the returned function forgets it (call it once the path is renamed or removed). */
export function trackTemporary(path: string): () => void {
  pending.add(path);
  return () => {
    pending.delete(path);
  };
}

/** Removes every temporary path still registered (synchronous: for signal handlers); returns how many. */
export function removeTemporaryFiles(): number {
  const count = pending.size;
  for (const path of pending) rmSync(path, { force: true, recursive: true });
  pending.clear();
  return count;
}
