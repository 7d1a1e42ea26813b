/**
 * Publish to socketio-edge rooms from any backend, the way @socket.io/redis-emitter
 * publishes to a socket.io cluster, over the Worker's REST API:
 *
 *   const emitter = new Emitter<ServerToClientEvents>({ url, apiKey });
 *   await emitter.room("lobby").to("vip").emit("news", "hello");
 *
 * Two kinds of rooms: `room(name)` picks a top-level room (one Durable Object,
 * the `room` a client connects with); `to()`/`in()`/`except()` pick sub-rooms
 * inside it (socket.join), as in socket.io. Every call returns a new operator;
 * nothing is shared, so operators can be kept and reused.
 */
import { newIdempotencyKey, RestClient } from "./client.js";
import type {
  BatchItem,
  BatchResult,
  DefaultEventsMap,
  EmitResult,
  EmitterOptions,
  EventNames,
  EventParams,
  EventsMap,
  Handshake,
  RoomInfo,
  RoomStats,
} from "./types.js";

/** Where an operation goes: a top-level room, a namespace, and a selection of its sockets. */
interface Target {
  room: string | undefined;
  namespace: string;
  rooms: readonly string[];
  except: readonly string[];
  volatile: boolean;
  idempotencyKey: string | undefined;
}

/** Selects sockets of a room (`to`, `in`, `except`) and acts on them. */
export class BroadcastOperator<EmitEvents extends EventsMap = DefaultEventsMap, SocketData = any> {
  /** @internal */
  constructor(
    protected readonly client: RestClient,
    protected readonly target: Target,
  ) {}

  /** Targets sockets in these sub-rooms (or with these socket ids); several calls add up. */
  to(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.derive({ rooms: [...this.target.rooms, ...toArray(room)] });
  }

  in(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Leaves out sockets in these sub-rooms (or with these socket ids). */
  except(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.derive({ except: [...this.target.except, ...toArray(room)] });
  }

  /** Socket.IO's volatile flag: sockets that cannot take the event at once (polling, between requests) miss it. */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.derive({ volatile: true });
  }

  /**
   * Uses this Idempotency-Key for the next emit instead of a fresh one: a caller
   * that may itself run twice (a queue consumer, say) passes a key derived from its
   * message, and the room delivers once within its window (24 hours).
   */
  idempotencyKey(key: string): BroadcastOperator<EmitEvents, SocketData> {
    return this.derive({ idempotencyKey: key });
  }

  /**
   * Emits to the selected sockets. Arguments are JSON values or binary
   * (ArrayBuffer, typed arrays, Node Buffers), which clients receive as binary.
   * Retries are safe: each emit carries an Idempotency-Key the room remembers.
   */
  async emit<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: EventParams<EmitEvents, Event>
  ): Promise<EmitResult> {
    const { namespace, rooms, except, volatile } = this.target;
    return this.client.request<EmitResult>({
      method: "POST",
      path: `${this.roomPath()}/emit`,
      body: { event, args, namespace, rooms, except, volatile },
      idempotencyKey: this.target.idempotencyKey ?? newIdempotencyKey(),
    });
  }

  /** Makes the selected sockets join sub-rooms; resolves to how many sockets were selected. */
  async socketsJoin(room: string | readonly string[]): Promise<number> {
    const { sockets } = await this.client.request<{ sockets: number }>({
      method: "POST",
      path: `${this.roomPath()}/join`,
      body: { ...this.selector(), join: toArray(room) },
    });
    return sockets;
  }

  /** Makes the selected sockets leave sub-rooms; resolves to how many sockets were selected. */
  async socketsLeave(room: string | readonly string[]): Promise<number> {
    const { sockets } = await this.client.request<{ sockets: number }>({
      method: "POST",
      path: `${this.roomPath()}/leave`,
      body: { ...this.selector(), leave: toArray(room) },
    });
    return sockets;
  }

  /** Disconnects the selected sockets (with `close`, their whole connections); resolves to how many. */
  async disconnectSockets(close = false): Promise<number> {
    const { sockets } = await this.client.request<{ sockets: number }>({
      method: "POST",
      path: `${this.roomPath()}/disconnect`,
      body: { ...this.selector(), close },
    });
    return sockets;
  }

  /** The selected sockets, with their rooms, data and handshake. */
  async fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    const { namespace, rooms, except } = this.target;
    const answer = await this.client.request<{ sockets: RemoteSocketDetails<SocketData>[] }>({
      method: "GET",
      path: `${this.roomPath()}/sockets`,
      query: { namespace, rooms: [...rooms], except: [...except] },
    });
    const room = this.target.room!;
    return answer.sockets.map((details) => new RemoteSocket<EmitEvents, SocketData>(this.client, room, details));
  }

  protected derive(change: Partial<Target>): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.client, { ...this.target, ...change });
  }

  protected roomPath(): string {
    if (this.target.room === undefined) {
      throw new TypeError("Emitter: no room. Use emitter.room(name), or pass `room` to new Emitter({ ... })");
    }
    return `/rooms/${encodeURIComponent(this.target.room)}`;
  }

  private selector() {
    const { namespace, rooms, except } = this.target;
    return { namespace, rooms, except };
  }
}

/** A top-level room (one Durable Object) in one namespace: all its sockets, until `to()` narrows them. */
export class RoomEmitter<EmitEvents extends EventsMap = DefaultEventsMap, SocketData = any> extends BroadcastOperator<
  EmitEvents,
  SocketData
> {
  /** The same room in another namespace ("/" by default). */
  of(namespace: string): RoomEmitter<EmitEvents, SocketData> {
    return new RoomEmitter(this.client, { ...this.target, namespace: namespace.startsWith("/") ? namespace : "/" + namespace });
  }

  /** Presence: connections, and sockets per namespace. */
  async info(): Promise<RoomInfo> {
    return this.client.request<RoomInfo>({ method: "GET", path: this.roomPath() });
  }

  /** Operator stats: live connections by transport and namespace, counters since start and per minute. */
  async stats(): Promise<RoomStats> {
    return this.client.request<RoomStats>({ method: "GET", path: this.roomPath() + "/stats" });
  }
}

/**
 * The entry point. `room(name)` addresses a top-level room; with a default
 * `room` in the options, the emitter itself is that room.
 */
export class Emitter<EmitEvents extends EventsMap = DefaultEventsMap, SocketData = any> extends RoomEmitter<
  EmitEvents,
  SocketData
> {
  constructor(options: EmitterOptions) {
    super(new RestClient(options), {
      room: options.room,
      namespace: "/",
      rooms: [],
      except: [],
      volatile: false,
      idempotencyKey: undefined,
    });
  }

  /** A top-level room: the `room` query parameter its Socket.IO clients connect with. */
  room(name: string): RoomEmitter<EmitEvents, SocketData> {
    return new RoomEmitter(this.client, { ...this.target, room: name });
  }

  /**
   * Many emits, to any rooms, in one request (at most 100). The server checks
   * every item before delivering any; each item then has its own result. Items
   * that failed on a room's side are retried with the rest, under the same
   * Idempotency-Key, so delivered items are not delivered twice.
   */
  batch(items: readonly BatchItem<EmitEvents>[], options: { idempotencyKey?: string } = {}): Promise<BatchResult[]> {
    return this.client
      .request<{ results: BatchResult[] }>({
        method: "POST",
        path: "/emit",
        body: { items },
        idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
        retryAnswer: (answer: { results: BatchResult[] }) => answer.results.some((r) => !r.ok && r.status >= 500),
      })
      .then((answer) => answer.results);
  }
}

interface RemoteSocketDetails<SocketData> {
  id: string;
  namespace: string;
  rooms: string[];
  data: SocketData;
  handshake: Handshake;
}

/** A socket returned by `fetchSockets()`: a snapshot, with methods that act on the live socket. */
export class RemoteSocket<EmitEvents extends EventsMap = DefaultEventsMap, SocketData = any> {
  readonly id: string;
  readonly namespace: string;
  readonly rooms: Set<string>;
  readonly data: SocketData;
  readonly handshake: Handshake;
  private readonly operator: BroadcastOperator<EmitEvents, SocketData>;

  /** @internal */
  constructor(client: RestClient, room: string, details: RemoteSocketDetails<SocketData>) {
    this.id = details.id;
    this.namespace = details.namespace;
    this.rooms = new Set(details.rooms);
    this.data = details.data;
    this.handshake = details.handshake;
    this.operator = new BroadcastOperator<EmitEvents, SocketData>(client, {
      room,
      namespace: details.namespace,
      rooms: [details.id],
      except: [],
      volatile: false,
      idempotencyKey: undefined,
    });
  }

  emit<Event extends EventNames<EmitEvents>>(event: Event, ...args: EventParams<EmitEvents, Event>): Promise<EmitResult> {
    return this.operator.emit(event, ...args);
  }

  async join(room: string | readonly string[]): Promise<void> {
    await this.operator.socketsJoin(room);
  }

  async leave(room: string | readonly string[]): Promise<void> {
    await this.operator.socketsLeave(room);
  }

  async disconnect(close = false): Promise<void> {
    await this.operator.disconnectSockets(close);
  }
}

function toArray(room: string | readonly string[]): string[] {
  return typeof room === "string" ? [room] : [...room];
}
