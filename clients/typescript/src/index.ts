/**
 * A typed client for humortune's JSON API (`humortune serve`), on openapi-fetch.
 *
 * ```ts
 * import { createHumortuneClient } from "humortune-client";
 * const humortune = createHumortuneClient("http://127.0.0.1:8000", process.env.HUMORTUNE_API_TOKEN!);
 * const { data, error } = await humortune.POST("/v1/analyze", { body: { video: "gs://…/clip.mp4" } });
 * if (error) console.error(error.error, error.hint); else console.log(data.record?.mechanism);
 * ```
 *
 * `data` is the `Analysis` on success and `error` the `ErrorBody` on any 4xx/5xx, both fully typed from the
 * server's schema (`npm run generate` refreshes `src/schema.ts`).
 */
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
export type Analysis = Schemas["AnalysisResponse"];
export type AnalyzeRequest = Schemas["AnalyzeRequest"];
export type HumorRecord = Schemas["HumorRecord"];
export type ErrorBody = Schemas["ErrorBody"];
export type Health = Schemas["Health"];
export type HumortuneClient = Client<paths>;

/** A client for `baseUrl` that sends `Authorization: Bearer <token>` on every request. */
export function createHumortuneClient(
  baseUrl: string,
  token: string,
  options: Omit<ClientOptions, "baseUrl"> = {},
): HumortuneClient {
  const client = createClient<paths>({ ...options, baseUrl: baseUrl.replace(/\/+$/, "") });
  const bearer: Middleware = {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
  client.use(bearer);
  return client;
}

/** An error answer of the service, thrown by `analyze`: branch on `body.error`, show `body.hint` to a person. */
export class HumortuneApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(`${status} ${body.error}: ${body.message}`);
    this.name = "HumortuneApiError";
  }
}

/** `POST /v1/analyze`, returning the analysis or throwing `HumortuneApiError`. */
export async function analyze(client: HumortuneClient, request: AnalyzeRequest): Promise<Analysis> {
  const { data, error, response } = await client.POST("/v1/analyze", { body: request });
  if (error !== undefined) throw new HumortuneApiError(response.status, error);
  return data;
}
