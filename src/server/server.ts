import { BroadcastOperator } from "./broadcast";
import { guard, NamespaceHandlers, type ConnectionHandler, type ConnectMiddleware } from "./handlers";
import { Namespace } from "./namespace";
import type { RecoveryStore } from "./recovery";
import { AckTimeoutError, type Socket } from "./socket";
import type { DefaultEventsMap, EventNames, EventsMap } from "./typed-events";
import type { EngineSettings } from "../config";
import { SERVER_SIDE_ACK_TIMEOUT_MS, type ShardAdapter } from "../shard/adapter";

/** Marks, among a shard's serverSideEmit answers, that some listener did not answer in time. */
const SERVER_SIDE_TIMED_OUT = "\u0000timed out";

export type NamespacePattern = RegExp | ((name: string) => boolean);

/** A room's `serverSettings()`: socket.io's server options, and what only this project has. */
export interface ServerSettings extends EngineSettings {
  /**
   * Accept namespaces nobody declared. Off by default, as in socket.io: only
   * "/", namespaces declared with `io.of(name)` and those a pattern matches
   * connect; others get CONNECT_ERROR "Invalid namespace". The shipped relay
   * turns it on.
   */
  dynamicNamespaces?: boolean;
}

/** Emits into another room object (over Durable Object RPC); see `Server.room`. */
export interface RemoteRoom {
  of(namespace: string): RemoteRoom;
  to(room: string | readonly string[]): RemoteRoom;
  in(room: string | readonly string[]): RemoteRoom;
  except(room: string | readonly string[]): RemoteRoom;
  /** Resolves with how many sockets of that room received it. */
  emit(event: string, ...args: unknown[]): Promise<number>;
}

/**
 * The server-side API of one room object, modelled on socket.io's `Server`.
 * Declare namespaces and handlers once, in the room's `setup(io)`.
 */
export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> {
  private readonly namespaces = new Map<string, Namespace<ListenEvents, EmitEvents, SocketData>>();
  private readonly declared = new Set<string>();
  /** The room's shards, once this object knows it is one (sharded rooms only). */
  private shard: ShardAdapter | null = null;
  /** Listeners of serverSideEmit events (`io.on(event)`), by event. */
  private readonly serverSideListeners = new Map<string, ((...args: any[]) => unknown)[]>();
  private readonly patterns: {
    match: (name: string) => boolean;
    handlers: NamespaceHandlers<ListenEvents, EmitEvents, SocketData>;
  }[] = [];

  constructor(
    readonly settings: ServerSettings = {},
    private readonly remote: (room: string) => RemoteRoom = () => {
      throw new Error("Cross-room emits need a room object");
    },
    /** Where recoverable namespaces log packets and keep disconnected sockets; null: recovery off. */
    readonly recovery: RecoveryStore | null = null,
  ) {
    // The main namespace always exists, as in socket.io.
    this.declared.add("/");
  }

  /** A namespace by name, or handlers shared by every namespace a pattern matches. */
  of(name: string): Namespace<ListenEvents, EmitEvents, SocketData>;
  of(pattern: NamespacePattern): NamespaceHandlers<ListenEvents, EmitEvents, SocketData>;
  of(nameOrPattern: string | NamespacePattern) {
    if (typeof nameOrPattern === "string") {
      const name = normalize(nameOrPattern);
      this.declared.add(name);
      return this.namespace(name);
    }
    const match = nameOrPattern instanceof RegExp ? (n: string) => nameOrPattern.test(n) : nameOrPattern;
    const handlers = new NamespaceHandlers<ListenEvents, EmitEvents, SocketData>();
    this.patterns.push({ match, handlers });
    return handlers;
  }

  /** The main namespace ("/"). */
  get sockets(): Namespace<ListenEvents, EmitEvents, SocketData> {
    return this.of("/");
  }

  /**
   * Another room (Durable Object) of this Worker, by name: `io.room("other").to("sub").emit(...)`.
   * Delivery goes over Durable Object RPC; the promise says how many sockets received it.
   */
  room(name: string): RemoteRoom {
    return this.remote(name);
  }

  /** `"connection"`: as on the main namespace; any other event: what other shards send with `serverSideEmit`. */
  on(type: "connection", handler: ConnectionHandler<Socket<ListenEvents, EmitEvents, SocketData>>): this;
  on(event: string, listener: (...args: any[]) => unknown): this;
  on(type: string, handler: (...args: any[]) => unknown): this {
    if (type === "connection") {
      this.sockets.on(type, handler as ConnectionHandler<Socket<ListenEvents, EmitEvents, SocketData>>);
      return this;
    }
    const list = this.serverSideListeners.get(type);
    if (list) list.push(handler);
    else this.serverSideListeners.set(type, [handler]);
    return this;
  }

  /**
   * socket.io's serverSideEmit: to the `io.on(event)` listeners of the other
   * shards of a sharded room (nowhere in a room of one object). With a function
   * as last argument, it gets `(error, responses)`, one response per listener
   * that acknowledged, within 5 s (an error after that, with those received).
   */
  serverSideEmit(event: string, ...args: unknown[]): true {
    const last = args[args.length - 1];
    const ack = typeof last === "function" ? (last as (error: Error | null, responses: unknown[]) => void) : null;
    if (ack) args = args.slice(0, -1);
    if (this.shard === null || !this.shard.fanOut) {
      if (ack) queueMicrotask(() => ack(null, []));
      return true;
    }
    this.shard.serverSideEmit(event, args, ack ? SERVER_SIDE_ACK_TIMEOUT_MS : null).then(
      (responses) => ack?.(responses.includes(SERVER_SIDE_TIMED_OUT) ? new AckTimeoutError() : null, responses.filter((r) => r !== SERVER_SIDE_TIMED_OUT)),
      (error) => ack?.(error instanceof Error ? error : new Error(String(error)), []),
    );
    return true;
  }

  serverSideEmitWithAck(event: string, ...args: unknown[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => this.serverSideEmit(event, ...args, (error: Error | null, responses: unknown[]) => (error ? reject(error) : resolve(responses))));
  }

  /** Another shard's serverSideEmit: runs the listeners; with an ack, resolves with their answers (within `timeout`). */
  receiveServerSideEmit(event: string, args: unknown[], timeout: number | null): Promise<unknown[]> {
    const listeners = this.serverSideListeners.get(event) ?? [];
    if (timeout === null) {
      for (const listener of listeners) guard(() => listener(...args));
      return Promise.resolve([]);
    }
    return new Promise((resolve) => {
      const responses: unknown[] = [];
      let pending = listeners.length;
      const timer = setTimeout(() => resolve([...responses, SERVER_SIDE_TIMED_OUT]), timeout);
      if (pending === 0) {
        clearTimeout(timer);
        return resolve([]);
      }
      for (const listener of listeners) {
        let answered = false;
        guard(() =>
          listener(...args, (response: unknown) => {
            if (answered) return;
            answered = true;
            responses.push(response);
            if (--pending === 0) {
              clearTimeout(timer);
              resolve(responses);
            }
          }),
        );
      }
    });
  }

  /** Attaches the room's shards: every namespace, now and later, broadcasts through them. */
  useShard(shard: ShardAdapter): void {
    this.shard = shard;
    for (const nsp of this.namespaces.values()) this.attachShard(nsp);
  }

  private attachShard(nsp: Namespace<ListenEvents, EmitEvents, SocketData>): void {
    const shard = this.shard;
    if (shard === null) return;
    nsp.shard = shard;
    nsp.adapter.onChange = (room, present) => shard.changed(nsp.name, room, present);
  }

  onSocket(setup: ConnectionHandler<Socket<ListenEvents, EmitEvents, SocketData>>): this {
    this.sockets.onSocket(setup);
    return this;
  }

  use(middleware: ConnectMiddleware<Socket<ListenEvents, EmitEvents, SocketData>>): this {
    this.sockets.use(middleware);
    return this;
  }

  to(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.to(room);
  }

  in(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.to(room);
  }

  except(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.except(room);
  }

  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.volatile;
  }

  timeout(ms: number): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.timeout(ms);
  }

  emit<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: unknown[]): number {
    return this.sockets.emit(event, ...args);
  }

  /** The main namespace's sockets, as a Promise (as socket.io's); in a sharded room, every shard's. */
  fetchSockets(): ReturnType<Namespace<ListenEvents, EmitEvents, SocketData>["fetchSockets"]> {
    return this.sockets.fetchSockets();
  }

  /** The namespace a client asks to connect to, or null when it is not allowed. */
  lookup(name: string): Namespace<ListenEvents, EmitEvents, SocketData> | null {
    const existing = this.namespaces.get(name);
    if (existing && (existing.size > 0 || this.isAllowed(name))) return existing;
    return this.isAllowed(name) ? this.namespace(name) : null;
  }

  /** A namespace that exists in this object now, by name; unlike `of` and `lookup`, never creates one. */
  existing(name: string): Namespace<ListenEvents, EmitEvents, SocketData> | undefined {
    return this.namespaces.get(normalize(name));
  }

  /**
   * Where a packet for a namespace nobody is connected to goes: with recovery
   * on, an empty namespace that is not kept (the packet is logged for sockets
   * that come back); otherwise nowhere.
   */
  unconnected(name: string): Namespace<ListenEvents, EmitEvents, SocketData> | undefined {
    if (this.recovery === null) return undefined;
    const nsp = new Namespace<ListenEvents, EmitEvents, SocketData>(normalize(name));
    nsp.recovery = this.recovery;
    return nsp;
  }

  /** Forgets an undeclared namespace nobody is connected to, so dynamic names cannot pile up. */
  releaseIfUnused(name: string): void {
    const nsp = this.namespaces.get(name);
    if (nsp && nsp.size === 0 && nsp.connecting === 0 && !this.declared.has(name)) this.namespaces.delete(name);
  }

  /** Namespaces that exist in this object now. */
  all(): IterableIterator<Namespace<ListenEvents, EmitEvents, SocketData>> {
    return this.namespaces.values();
  }

  private isAllowed(name: string): boolean {
    return this.declared.has(name) || this.settings.dynamicNamespaces === true || this.patterns.some((p) => p.match(name));
  }

  private namespace(name: string): Namespace<ListenEvents, EmitEvents, SocketData> {
    let nsp = this.namespaces.get(name);
    if (!nsp) {
      // Patterns are only ever added: the matching ones are worked out again only when one was.
      let matched: { patterns: number; handlers: NamespaceHandlers<ListenEvents, EmitEvents, SocketData>[] } | null = null;
      const inherited = () => {
        if (matched?.patterns !== this.patterns.length) {
          matched = { patterns: this.patterns.length, handlers: this.patterns.filter((p) => p.match(name)).map((p) => p.handlers) };
        }
        return matched.handlers;
      };
      nsp = new Namespace<ListenEvents, EmitEvents, SocketData>(name, inherited, () => this.releaseIfUnused(name));
      nsp.recovery = this.recovery;
      nsp.strictListeners = this.settings.strictListeners === true;
      this.namespaces.set(name, nsp);
      this.attachShard(nsp);
    }
    return nsp;
  }
}

function normalize(name: string): string {
  return name.startsWith("/") ? name : "/" + name;
}
