/** Docker Hub's documented webhook example and the event line regkit makes of it. */
import { join } from "node:path";
import { REFERENCE } from "./contract.js";

export const DOCKER_HUB_WEBHOOK_EXAMPLE = join(REFERENCE, "dockerhub", "webhook-payload.example.json");

export const EXAMPLE_CALLBACK_URL =
  "https://registry.hub.docker.com/u/svendowideit/testhook/hook/2141b5bi5i5b02bec211i4eeih0242eg11000a/";

export const EXAMPLE_EVENT_LINE = {
  provider: "dockerhub",
  type: "push",
  repository: "svendowideit/testhook",
  tag: "latest",
  pusher: "trustedbuilder",
  at: "2014-12-03T00:22:41.000Z",
  callback_url: EXAMPLE_CALLBACK_URL,
};
