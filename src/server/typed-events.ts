/**
 * Event maps type the server API the way socket.io does: `ListenEvents` are the
 * events clients send, `EmitEvents` the events the server sends.
 *
 *   interface ClientToServer { chat: (text: string, ack: (ok: boolean) => void) => void }
 *   interface ServerToClient { chat: (from: string, text: string) => void }
 *   class ChatRoom extends SocketIORoom<ClientToServer, ServerToClient, { nick: string }> { ... }
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventsMap = Record<string, any>;

export interface DefaultEventsMap {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [event: string]: (...args: any[]) => void;
}

export type EventNames<Map extends EventsMap> = keyof Map & string;

export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Map[Ev] extends (...args: infer P) => unknown
  ? P
  : never;

type Last<T extends unknown[]> = T extends [...unknown[], infer L] ? L : never;
type AllButLast<T extends unknown[]> = T extends [...infer Head, unknown] ? Head : unknown[];
type FirstArg<T> = T extends (first: infer A, ...rest: never[]) => unknown ? A : unknown;

/** Arguments of an event whose last parameter is its acknowledgement callback, without it. */
export type ArgsWithoutAck<Map extends EventsMap, Ev extends EventNames<Map>> = AllButLast<EventParams<Map, Ev>>;

/** What the other side answers to an event that takes an acknowledgement. */
export type AckResponse<Map extends EventsMap, Ev extends EventNames<Map>> = FirstArg<Last<EventParams<Map, Ev>>>;

/** Reserved server-side socket events. */
export interface SocketReservedEvents {
  disconnect: (reason: string) => void;
  /** A packet middleware refused a packet. */
  error: (error: Error) => void;
}
