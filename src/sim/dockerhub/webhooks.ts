import { createHmac } from "node:crypto";
import type { RepositoryMeta } from "./catalog.js";

export interface WebhookTarget {
  url: string;
  /** Signs deliveries with `X-Hub-Signature-256`, as a signing relay in front of a receiver would. */
  secret?: string;
}

export interface WebhookDelivery {
  url: string;
  kind: "push" | "delete";
  status?: number;
  error?: string;
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * Sends what Docker Hub sends when a tag is pushed (the payload of
 * test/reference/dockerhub/webhooks.md, without the legacy callback_url),
 * and regkit's delete extension when a tag is deleted through the Hub API,
 * to every configured URL. Fire and forget, as Docker Hub does: a failed
 * delivery is recorded, never retried and never fails the push.
 */
export class WebhookSender {
  readonly deliveries: WebhookDelivery[] = [];
  readonly #pending = new Set<Promise<void>>();

  constructor(private readonly targets: readonly WebhookTarget[]) {}

  pushed(name: string, tag: string, pusher: string, meta: RepositoryMeta): void {
    this.#send("push", {
      push_data: { pushed_at: Math.floor(Date.now() / 1000), pusher, tag, images: [] },
      repository: repository(name, meta),
    });
  }

  deleted(name: string, tag: string, deleter: string, meta: RepositoryMeta): void {
    this.#send("delete", {
      delete_data: { deleted_at: Math.floor(Date.now() / 1000), deleter, tag },
      repository: repository(name, meta),
    });
  }

  /** Resolves when every delivery started so far has ended (tests). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #send(kind: WebhookDelivery["kind"], payload: unknown): void {
    const body = JSON.stringify(payload);
    for (const target of this.targets) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (target.secret)
        headers["x-hub-signature-256"] =
          `sha256=${createHmac("sha256", target.secret).update(body).digest("hex")}`;
      const delivery: WebhookDelivery = { url: target.url, kind };
      const sent = fetch(target.url, { method: "POST", headers, body, signal: AbortSignal.timeout(5000) })
        .then(async (response) => {
          delivery.status = response.status;
          await response.body?.cancel();
        })
        .catch((error: unknown) => {
          delivery.error = error instanceof Error ? error.message : String(error);
        })
        .finally(() => {
          this.deliveries.push(delivery);
          this.#pending.delete(sent);
        });
      this.#pending.add(sent);
    }
  }
}

function repository(name: string, meta: RepositoryMeta) {
  const [namespace, repo] = name.split("/") as [string, string];
  return {
    comment_count: 0,
    date_created: seconds(meta.dateRegistered),
    description: meta.description,
    full_description: meta.fullDescription,
    is_official: namespace === "library",
    is_private: meta.isPrivate,
    is_trusted: false,
    name: repo,
    namespace,
    owner: namespace,
    repo_name: name,
    repo_url: `https://hub.docker.com/r/${name}`,
    star_count: meta.starCount,
    status: "Active",
  };
}
