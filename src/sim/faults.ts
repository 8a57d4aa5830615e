import type { Context, MiddlewareHandler, Next } from "hono";
import { z } from "zod";
import { ConfigurationError } from "../core/errors.js";

/**
 * Fault injection for the embedded registry: what real registries and
 * networks do to clients. Rules are checked in order for every request; the
 * first whose route, method and (seeded) probability match applies.
 */
export const faultRuleSchema = z.object({
  /** `status`: answer with this status (429 carries rate-limit headers and Retry-After). */
  kind: z.enum(["status", "latency", "reset", "truncate", "trickle", "body"]),
  status: z.number().int().min(400).max(599).optional(),
  /** OCI error code of an injected status (default by status: TOOMANYREQUESTS, UNAVAILABLE, UNKNOWN). */
  code: z
    .string()
    .regex(/^[A-Z_]{1,64}$/)
    .optional(),
  /** Seconds for Retry-After on 429/503. */
  retryAfter: z.number().int().min(0).optional(),
  /** Added latency, or the pause between trickled chunks. */
  delayMs: z.number().int().min(0).max(60_000).optional(),
  /** For `reset`/`truncate`: bytes of the body sent before cutting; for `trickle`: bytes per chunk. */
  bytes: z.number().int().min(0).optional(),
  /** For `body`: what the answer carries instead, status and headers kept (an answer of the wrong shape). */
  body: z.string().max(1_048_576).optional(),
  /** Substring or `/regex/` the path must match. */
  route: z.string().optional(),
  method: z.string().optional(),
  probability: z.number().min(0).max(1).default(1),
  /** Apply at most this many times (a burst), then never again. */
  times: z.number().int().min(1).optional(),
});
export type FaultRule = z.input<typeof faultRuleSchema>;
type Rule = z.output<typeof faultRuleSchema>;

export interface FaultOptions {
  rules: FaultRule[];
  /** Seed of the PRNG deciding probabilistic faults: same seed, same faults. */
  seed?: number;
}

/** Parses `--faults`: a JSON array of rules. */
export function parseFaults(spec: string): FaultRule[] {
  let json: unknown;
  try {
    json = JSON.parse(spec);
  } catch {
    throw new ConfigurationError("--faults must be a JSON array of fault rules");
  }
  const parsed = z.array(faultRuleSchema).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigurationError(
      `invalid fault rule at ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "?"}`,
    );
  }
  return parsed.data;
}

/** mulberry32: tiny, fast, and deterministic for a seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function matches(rule: Rule, method: string, path: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method) return false;
  if (!rule.route) return true;
  if (rule.route.startsWith("/") && rule.route.endsWith("/") && rule.route.length > 1) {
    return new RegExp(rule.route.slice(1, -1)).test(path);
  }
  return path.includes(rule.route);
}

export class FaultInjector {
  readonly #rules: Array<Rule & { applied: number }>;
  readonly #random: () => number;
  /** Faults applied so far, by kind, for tests. */
  readonly applied = new Map<string, number>();
  /** Every request seen, as `METHOD path status`, for tests that count attempts. */
  readonly log: string[] = [];

  constructor(options: FaultOptions) {
    this.#rules = options.rules.map((r) => ({ ...faultRuleSchema.parse(r), applied: 0 }));
    this.#random = prng(options.seed ?? 1);
  }

  pick(method: string, path: string): Rule | undefined {
    for (const rule of this.#rules) {
      if (!matches(rule, method, path)) continue;
      if (rule.times !== undefined && rule.applied >= rule.times) continue;
      if (this.#random() >= rule.probability) continue;
      rule.applied++;
      this.applied.set(rule.kind, (this.applied.get(rule.kind) ?? 0) + 1);
      return rule;
    }
    return undefined;
  }

  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const path = new URL(c.req.url).pathname;
      const rule = this.pick(c.req.method, path);
      let injected: Response | undefined;
      try {
        injected = await this.#apply(c, next, rule);
        return injected;
      } finally {
        // An injected answer is not in c.res yet: log the status the client gets.
        const status = injected?.status ?? c.res.status;
        this.log.push(
          `${c.req.method} ${path} ${status}${c.req.header("range") ? ` ${c.req.header("range")}` : ""}`,
        );
      }
    };
  }

  async #apply(c: Context, next: Next, rule: Rule | undefined): Promise<Response | undefined> {
    {
      if (!rule) {
        await next();
        return undefined;
      }
      if (rule.kind === "latency") {
        await new Promise((r) => setTimeout(r, rule.delayMs ?? 100));
        await next();
        return undefined;
      }
      if (rule.kind === "status") {
        const status = rule.status ?? 503;
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (rule.retryAfter !== undefined) headers["retry-after"] = String(rule.retryAfter);
        if (status === 429) {
          headers["ratelimit-limit"] = "100;w=21600";
          headers["ratelimit-remaining"] = "0;w=21600";
        }
        const code =
          rule.code ?? (status === 429 ? "TOOMANYREQUESTS" : status === 503 ? "UNAVAILABLE" : "UNKNOWN");
        return c.body(
          JSON.stringify({ errors: [{ code, message: `injected ${status}` }] }),
          status as 500,
          headers,
        );
      }
      await next();
      const body = c.res.body;
      if (!body) return undefined;
      const headers = new Headers(c.res.headers);
      // A truncated or replaced body keeps valid framing (no Content-Length), so only the content differs.
      if (rule.kind === "truncate" || rule.kind === "body") headers.delete("content-length");
      const status = c.res.status;
      // Hono merges the old response's headers into a new one; clear it so Content-Length stays removed.
      c.res = undefined;
      c.res = new Response(rule.kind === "body" ? (rule.body ?? "") : damaged(body, rule), {
        status,
        headers,
      });
      return undefined;
    }
  }
}

/** Cuts (`reset`), ends early (`truncate`) or slows (`trickle`) a response body. */
function damaged(body: ReadableStream<Uint8Array>, rule: Rule): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let sent = 0;
  const limit = rule.bytes ?? 1024;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      if (rule.kind === "trickle") {
        for (let i = 0; i < value.byteLength; i += Math.max(1, limit)) {
          await new Promise((r) => setTimeout(r, rule.delayMs ?? 10));
          controller.enqueue(value.subarray(i, i + Math.max(1, limit)));
        }
        return;
      }
      const room = limit - sent;
      if (value.byteLength < room) {
        sent += value.byteLength;
        controller.enqueue(value);
        return;
      }
      if (room > 0) controller.enqueue(value.subarray(0, room));
      await reader.cancel();
      // Let what was sent reach the client first: a reset after data, not before the headers.
      if (rule.kind === "reset") await new Promise((r) => setTimeout(r, 25));
      if (rule.kind === "reset") controller.error(new Error("injected connection reset"));
      else controller.close();
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
