import { encodeBinaryJson } from "../rest/binary-json";

/** The socket a webhook is about. */
export interface WebhookSocket {
  room: string;
  /** With its leading "/". */
  namespace: string;
  socketId: string;
  /** Verified JWT claims of the socket, when the room has them: lets a stateless receiver know who sent what. */
  claims?: Record<string, unknown>;
}

interface WebhookBase extends WebhookSocket {
  /** Unique per delivery and the same on every retry: receivers dedupe on it. */
  id: string;
  /** When it happened, ms since the epoch (the signature has its own timestamp). */
  timestamp: number;
}

export interface ConnectWebhook extends WebhookBase {
  type: "connect";
}

export interface DisconnectWebhook extends WebhookBase {
  type: "disconnect";
  /** socket.io's disconnect reason, e.g. "transport close", "client namespace disconnect". */
  reason: string;
}

export interface EventWebhook extends WebhookBase {
  type: "event";
  event: string;
  /** Binary values as `{ "$binary": "<base64>" }`, as in the REST API. */
  args: unknown[];
}

export type WebhookPayload = ConnectWebhook | DisconnectWebhook | EventWebhook;

/** Identity and time of a delivery; injectable so payloads are pure. */
export interface WebhookStamp {
  id: string;
  timestamp: number;
}

export function newStamp(): WebhookStamp {
  return { id: crypto.randomUUID(), timestamp: Date.now() };
}

export function connectWebhook(socket: WebhookSocket, stamp: WebhookStamp = newStamp()): ConnectWebhook {
  return { type: "connect", ...stamp, ...socketFields(socket) };
}

export function disconnectWebhook(socket: WebhookSocket, reason: string, stamp: WebhookStamp = newStamp()): DisconnectWebhook {
  return { type: "disconnect", ...stamp, ...socketFields(socket), reason };
}

/** `args` as the handler got them; a trailing ack function is left out. */
export function eventWebhook(socket: WebhookSocket, event: string, args: readonly unknown[], stamp: WebhookStamp = newStamp()): EventWebhook {
  const values = typeof args[args.length - 1] === "function" ? args.slice(0, -1) : args;
  return { type: "event", ...stamp, ...socketFields(socket), event, args: encodeBinaryJson(values) as unknown[] };
}

/** Only the documented fields, whatever else the caller's object holds. */
function socketFields({ room, namespace, socketId, claims }: WebhookSocket): WebhookSocket {
  return claims === undefined ? { room, namespace, socketId } : { room, namespace, socketId, claims };
}
