import {
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type Span,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
  type UpDownCounter,
} from "@opentelemetry/api";
import { isRegkitError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { type ProviderId, providerOf, spanPrefix } from "../core/providers.js";

const NAME = "regkit";

/**
 * Spans and metrics of registry operations, through the OpenTelemetry API:
 * a no-op unless the application registered an SDK (or passed providers).
 * One metric family per measurement with a `provider` attribute, rather
 * than one family per provider.
 */
export class Telemetry {
  readonly tracer: Tracer;
  readonly logger: Logger | undefined;
  readonly #operations: Counter;
  readonly #duration: Histogram;
  readonly #errors: Counter;
  readonly #bytes: Counter;
  readonly #transfers: Counter;
  readonly #retries: Counter;
  readonly #circuit: UpDownCounter;
  readonly #meter: Meter;

  constructor(
    options: { tracerProvider?: TracerProvider; meterProvider?: MeterProvider; logger?: Logger } = {},
  ) {
    this.tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(NAME);
    const meter: Meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(NAME);
    this.logger = options.logger;
    this.#operations = meter.createCounter("regkit.operations", {
      description: "Registry operations by outcome",
    });
    this.#duration = meter.createHistogram("regkit.operation.duration", {
      description: "Duration of registry operations",
      unit: "s",
    });
    this.#errors = meter.createCounter("regkit.errors", {
      description: "Failed operations by error category",
    });
    this.#bytes = meter.createCounter("regkit.bytes", { description: "Blob bytes moved", unit: "By" });
    this.#transfers = meter.createCounter("regkit.transfers", {
      description: "Image pulls and pushes (manifests)",
    });
    this.#retries = meter.createCounter("regkit.retries", { description: "Requests retried" });
    this.#circuit = meter.createUpDownCounter("regkit.circuit.open", {
      description: "Open circuit breakers",
    });
    this.#meter = meter;
  }

  retried(origin: string): void {
    this.#retries.add(1, { provider: providerOf(new URL(origin).host) });
  }

  circuit(origin: string, state: "open" | "half-open" | "closed"): void {
    // Counts 1 while a circuit is open (half-open included), back to 0 when it closes.
    if (state === "open") this.#circuit.add(1, { origin });
    if (state === "closed") this.#circuit.add(-1, { origin });
  }

  /** Publishes the last known remaining rate-limit budget per origin as a gauge. */
  observeRateLimits(read: () => Array<{ origin: string; remaining: number; limit: number }>): void {
    const gauge = this.#meter.createObservableGauge("regkit.ratelimit.remaining", {
      description: "Requests left in the current rate-limit window",
    });
    gauge.addCallback((result) => {
      for (const state of read()) {
        result.observe(state.remaining, {
          origin: state.origin,
          limit: state.limit,
          provider: providerOf(new URL(state.origin).host),
        });
      }
    });
  }

  /**
   * Runs one operation in a span named after the provider spec
   * (`docker.manifest.get`, `oci.blob.upload`, …), recording outcome,
   * duration and error category.
   */
  async operation<T>(
    registry: string,
    operation: string,
    attributes: Attributes,
    fn: (span: Span) => Promise<T>,
  ): Promise<T> {
    const provider: ProviderId = providerOf(registry);
    const name = `${spanPrefix(provider)}.${operation}`;
    const started = performance.now();
    return this.tracer.startActiveSpan(name, { attributes: { ...attributes, provider } }, async (span) => {
      try {
        const result = await fn(span);
        this.#operations.add(1, { operation, status: "ok", provider });
        return result;
      } catch (error) {
        const category = isRegkitError(error) ? error.category : "unknown";
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        span.setAttribute("error.type", isRegkitError(error) ? error.code : "unknown");
        this.#operations.add(1, { operation, status: "error", provider });
        this.#errors.add(1, { operation, category, provider });
        this.logger?.error(
          { registry, operation, code: isRegkitError(error) ? error.code : "unknown" },
          (error as Error).message,
        );
        throw error;
      } finally {
        this.#duration.record((performance.now() - started) / 1000, { operation, provider });
        span.end();
      }
    });
  }

  bytes(registry: string, direction: "upload" | "download", count: number): void {
    if (count > 0) this.#bytes.add(count, { direction, provider: providerOf(registry) });
  }

  /** A manifest fetched by tag is a pull; a manifest pushed is a push (as registries count them). */
  transfer(registry: string, kind: "pull" | "push", details: Record<string, unknown>): void {
    this.#transfers.add(1, { kind, provider: providerOf(registry) });
    this.logger?.info({ registry, ...details }, kind === "pull" ? "pulled manifest" : "pushed manifest");
  }
}

/** Attributes of an image reference in spans: `image` is registry/repository. */
export function imageAttributes(registry: string, repository: string, reference?: string): Attributes {
  const attributes: Attributes = { image: `${registry}/${repository}` };
  if (reference?.includes(":")) attributes.digest = reference;
  else if (reference) attributes.tag = reference;
  return attributes;
}
