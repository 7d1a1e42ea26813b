/**
 * Types of the emitter SDK. Event maps work as in socket.io: an interface whose
 * keys are event names and whose values are listener signatures, e.g.
 *
 *   interface ServerToClientEvents { chat: (from: string, text: string) => void }
 */

/** A map of event names to listener signatures. */
export interface EventsMap {
  [event: string]: any;
}

/** The default map: any event, any arguments. */
export interface DefaultEventsMap {
  [event: string]: (...args: any[]) => void;
}

export type EventNames<Events extends EventsMap> = keyof Events & string;

/** The arguments of an event, from its listener signature. */
export type EventParams<Events extends EventsMap, Event extends EventNames<Events>> = Events[Event] extends (
  ...args: infer Args
) => any
  ? Args
  : never;

export interface EmitterOptions {
  /** Base URL of the socketio-edge Worker, e.g. "https://realtime.example.com" (the API is under /v1). */
  url: string;
  /** The Worker secret API_KEY (or API_KEY_NEXT). Keep it on servers: anyone holding it can publish. */
  apiKey: string;
  /** Top-level room used by the emitter's own `to()`, `emit()`, ... (else pick one with `room(name)`). */
  room?: string;
  /** The fetch to use (default: the global one), e.g. a service binding's `fetch` inside a Worker. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Retries after a network error, a timeout, 408, 429 or a 5xx answer (default 3). Emits keep their Idempotency-Key across retries, so they are delivered once. */
  retries?: number;
  /** Delay before the first retry, in ms, doubled at each retry, with jitter (default 200). A Retry-After answer takes precedence. */
  retryDelay?: number;
  /** Time allowed for each attempt, in ms (default 10000). */
  timeout?: number;
}

/** What an emit did. */
export interface EmitResult {
  /** How many sockets it was sent to. */
  sockets: number;
  /** True when the room had already seen this emit's Idempotency-Key: it was not delivered again. */
  replayed: boolean;
}

/** Presence of a top-level room. */
export interface RoomInfo {
  room: string;
  /** Engine.IO connections, with or without a namespace. */
  connections: number;
  /** Sockets in all namespaces. */
  sockets: number;
  /** Sockets per namespace, for namespaces with at least one. */
  namespaces: Record<string, number>;
}

/** Counters of a room's stats (see the REST API's RoomStats schema). */
export interface StatsCounts<T = number> {
  connectionsOpened: T;
  connectionsClosed: T;
  upgrades: T;
  socketsConnected: T;
  socketsDisconnected: T;
  messagesIn: T;
  bytesIn: T;
  /** One per recipient. */
  messagesOut: T;
  bytesOut: T;
  /** Constructions of the room object: first start and every wake. */
  wakes: T;
  alarms: T;
  webSocketMessages: T;
  pongsInJs: T;
  errors: {
    parse_error: T;
    message_too_big: T;
    ping_timeout: T;
    transport_error: T;
    connect_timeout: T;
    connect_refused: T;
    rate_limited: T;
    outbox_full: T;
  };
}

/** Operator stats of a top-level room: presence, live transports, counters since start and per minute. */
export interface RoomStats extends RoomInfo {
  transports: { websocket: number; polling: number };
  startedAt: number;
  awakeSince: number;
  sinceStart: StatsCounts;
  /** The last 60 minutes, oldest first; `start` is the first minute's start (ms since epoch). */
  perMinute: { start: number; minutes: number; counts: StatsCounts<number[]> };
}

/** socket.io's `socket.handshake` (docs/server-api.md, "Handshake"). */
export interface Handshake {
  auth: Record<string, unknown>;
  /** Every query parameter as sent; a repeated one as an array. */
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  address: string | null;
  xdomain: boolean;
  secure: boolean;
  url: string;
  issued: number;
  time: string;
  claims?: Record<string, unknown>;
}

/** The optional parts of an emit, shared by `emit()` and batch items. */
export interface EmitTarget {
  namespace?: string;
  /** Sub-rooms inside the top-level room (or socket ids). */
  rooms?: string[];
  except?: string[];
  volatile?: boolean;
}

/** One item of `emitter.batch()`: an event, its arguments, and where it goes. */
export type BatchItem<Events extends EventsMap = DefaultEventsMap> = {
  [Event in EventNames<Events>]: EmitTarget & { room: string; event: Event; args?: EventParams<Events, Event> };
}[EventNames<Events>];

export type BatchResult =
  | { room: string; ok: true; sockets: number; replayed: boolean }
  | { room: string; ok: false; status: number; error: { code: string; message: string } };
