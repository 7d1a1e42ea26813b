import { EncodedMessage } from "../engine.io/frames";
import { ackPacket, disconnectPacket, encode, eventPacket, RESERVED_EVENTS, type Packet } from "../socket.io/protocol";
import { BroadcastOperator } from "./broadcast";
import type { Namespace } from "./namespace";
import type { Connection, DisconnectReason, Handshake, SocketRecord } from "./types";

type AckCallback = (...args: unknown[]) => void;

/**
 * A client's socket in one namespace. Its id, rooms, auth and `data` live in the
 * connection's attachment and survive hibernation; pending acknowledgements of
 * server emits live in memory only.
 */
export class Socket {
  readonly id: string;
  readonly rooms: Set<string>;
  connected = true;
  private nextAckId = 0;
  private readonly pendingAcks = new Map<number, AckCallback>();

  constructor(
    readonly nsp: Namespace,
    readonly connection: Connection,
    private readonly record: SocketRecord,
  ) {
    this.id = record.id;
    this.rooms = new Set([record.id, ...record.rooms]);
  }

  get handshake(): Handshake {
    const { query, headers, address } = this.connection.state;
    return {
      auth: this.record.auth,
      query,
      headers,
      address,
      issued: this.record.connectedAt,
      time: new Date(this.record.connectedAt).toString(),
    };
  }

  /** Arbitrary data kept with the socket across hibernation. Assign it to persist a change. */
  get data(): any {
    return this.record.data;
  }

  set data(value: unknown) {
    this.record.data = value;
    this.connection.persist();
  }

  /** Emits to this socket; a function as last argument receives the client's acknowledgement. */
  emit(event: string, ...args: unknown[]): true {
    if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`);
    let id: number | undefined;
    const last = args[args.length - 1];
    if (typeof last === "function") {
      args.pop();
      id = this.nextAckId++;
      this.pendingAcks.set(id, last as AckCallback);
    }
    this.send(eventPacket(this.nsp.name, event, args, id));
    return true;
  }

  join(room: string | readonly string[]): void {
    let changed = false;
    for (const r of typeof room === "string" ? [room] : room) {
      if (this.rooms.has(r)) continue;
      this.rooms.add(r);
      this.nsp.adapter.add(r, this);
      changed = true;
    }
    if (changed) this.saveRooms();
  }

  leave(room: string): void {
    if (room === this.id || !this.rooms.delete(room)) return;
    this.nsp.adapter.remove(room, this);
    this.saveRooms();
  }

  to(room: string | readonly string[]): BroadcastOperator {
    return this.broadcast.to(room);
  }

  in(room: string | readonly string[]): BroadcastOperator {
    return this.broadcast.to(room);
  }

  except(room: string | readonly string[]): BroadcastOperator {
    return this.broadcast.except(room);
  }

  /** Every other socket of the namespace (or of the rooms chosen next). */
  get broadcast(): BroadcastOperator {
    return new BroadcastOperator(this.nsp, new Set(), new Set(), this);
  }

  /** Disconnects this namespace; with `close`, the whole underlying connection. */
  disconnect(close = false): this {
    if (!this.connected) return this;
    if (close) {
      this.connection.close();
      return this;
    }
    this.send(disconnectPacket(this.nsp.name));
    this.nsp.removeSocket(this, "server namespace disconnect");
    return this;
  }

  // --- used by the namespace ----------------------------------------------

  send(packet: Packet): void {
    this.connection.send(new EncodedMessage(encode(packet)));
  }

  /** Returns the function a handler calls to acknowledge the client's event (once). */
  ackFunction(id: number): AckCallback {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent || !this.connected) return;
      sent = true;
      this.send(ackPacket(this.nsp.name, id, args));
    };
  }

  receiveAck(id: number, args: unknown[]): void {
    const callback = this.pendingAcks.get(id);
    if (callback === undefined) return; // Unknown or lost to hibernation.
    this.pendingAcks.delete(id);
    callback(...args);
  }

  markDisconnected(): void {
    this.connected = false;
    this.pendingAcks.clear();
  }

  private saveRooms(): void {
    this.record.rooms = [...this.rooms].filter((r) => r !== this.id);
    this.connection.persist();
  }
}

export type { DisconnectReason };
