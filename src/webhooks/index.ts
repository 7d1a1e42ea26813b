/**
 * Webhooks upstream: client connects, disconnects and chosen events POSTed,
 * signed, to an HTTP endpoint; an event webhook's JSON answer becomes the ack.
 * See docs/auth-and-webhooks.md.
 */
export { ackValue, WebhookClient, type WebhookClientOptions, type WebhookFailure, type WebhookFetcher, type WebhookOutcome } from "./client";
export { parseWebhookEvents, readWebhookConfig, wantsWebhook, type WebhookConfig, type WebhookEnv, type WebhookEventFilter, type WebhookKind } from "./config";
export {
  connectWebhook,
  disconnectWebhook,
  eventWebhook,
  newStamp,
  type ConnectWebhook,
  type DisconnectWebhook,
  type EventWebhook,
  type WebhookPayload,
  type WebhookSocket,
  type WebhookStamp,
} from "./payload";
export type { WebhookResponseBody } from "./response";
export {
  ATTEMPT_HEADER,
  DEFAULT_TOLERANCE_SECONDS,
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from "./signature";
