import { ConfigurationError } from "../core/errors.js";
import type { Handler, HttpRequest, HttpResponse, Middleware } from "./types.js";

/**
 * An ordered chain of named middleware around a terminal handler. The first
 * middleware is the outermost. Names let later layers (auth, retry, record)
 * be inserted, replaced or removed without knowing the whole chain.
 */
export class Pipeline {
  readonly #terminal: Handler;
  #middlewares: Middleware[];
  #composed: Handler | undefined;

  constructor(terminal: Handler, middlewares: Middleware[] = []) {
    this.#terminal = terminal;
    this.#middlewares = [...middlewares];
  }

  /** Always a promise: a middleware that throws synchronously still rejects. */
  async send(request: HttpRequest): Promise<HttpResponse> {
    // Composed once per change of the list, not per request.
    this.#composed ??= this.#middlewares.reduceRight<Handler>((next, mw) => mw.wrap(next), this.#terminal);
    return this.#composed(request);
  }

  /** Appends as the innermost middleware, closest to the network. */
  use(middleware: Middleware): this {
    return this.#set([...this.#middlewares, middleware]);
  }

  insertBefore(name: string, middleware: Middleware): this {
    const at = this.#indexOf(name);
    return this.#set([...this.#middlewares.slice(0, at), middleware, ...this.#middlewares.slice(at)]);
  }

  insertAfter(name: string, middleware: Middleware): this {
    const at = this.#indexOf(name) + 1;
    return this.#set([...this.#middlewares.slice(0, at), middleware, ...this.#middlewares.slice(at)]);
  }

  remove(name: string): this {
    return this.#set(this.#middlewares.filter((mw) => mw.name !== name));
  }

  names(): string[] {
    return this.#middlewares.map((mw) => mw.name);
  }

  clone(): Pipeline {
    return new Pipeline(this.#terminal, this.#middlewares);
  }

  #indexOf(name: string): number {
    const at = this.#middlewares.findIndex((mw) => mw.name === name);
    if (at < 0) throw new ConfigurationError(`no middleware named ${JSON.stringify(name)} in the pipeline`);
    return at;
  }

  #set(middlewares: Middleware[]): this {
    this.#middlewares = middlewares;
    this.#composed = undefined;
    return this;
  }
}
