import { UsageError } from "../core/errors.js";
import { SecretString } from "../core/secret.js";
import type { CliIo } from "./context.js";

/** Reads a line from the terminal without echoing it. */
export async function readSecret(io: CliIo, prompt: string): Promise<SecretString> {
  const stdin = io.stdin as NodeJS.ReadStream;
  if (!stdin.isTTY)
    throw new UsageError("stdin is not a terminal: use --password-stdin to pipe the password");
  io.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  let value = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (data: Buffer) => {
        for (const char of data.toString("utf8")) {
          if (char === "\r" || char === "\n") {
            stdin.off("data", onData);
            resolve();
            return;
          }
          if (char === "\u0003") {
            stdin.off("data", onData);
            reject(new UsageError("interrupted"));
            return;
          }
          value = char === "\u007f" ? value.slice(0, -1) : value + char;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    io.stderr.write("\n");
  }
  return new SecretString(value);
}
