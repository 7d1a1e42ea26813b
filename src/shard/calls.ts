/**
 * The Durable Object RPC calls between the objects of a sharded room (and from
 * the Worker), all through one method, `shardCall`, on the room class.
 */
import type { EmitCommand, EmitOutcome, RoomInfo, RoomStatsReport, SocketDescription, SocketSelector } from "../rest/commands";

/** What a publisher shard sends to other shards, in order, on its channels. */
export type ShardItem =
  | { kind: "emit"; nsp: string; rooms: string[]; except: string[]; event: string; args: unknown[]; volatile: boolean }
  | { kind: "join" | "leave"; nsp: string; rooms: string[]; except: string[]; targets: string[] }
  | { kind: "disconnect"; nsp: string; rooms: string[]; except: string[]; close: boolean };

export type EmitItem = Extract<ShardItem, { kind: "emit" }>;

export interface AckResult {
  count: number;
  responses: unknown[];
  timedOut: boolean;
}

export type ShardCall =
  // placement object `R#placement`
  | { op: "assign"; room: string; max: number }
  | { op: "report"; room: string; shard: number; connections: number }
  | { op: "active" | "placed"; room: string }
  // directory partitions `R#dirN`
  | { op: "dirLookup"; room: string; key: string; reader: number }
  | { op: "dirUpdate"; room: string; key: string; shard: number; present: boolean }
  // shards `R#N`
  | { op: "invalidate"; room: string; shard: number; key: string }
  | { op: "deliver"; room: string; shard: number; publisher: number; batch: { seq: number; item: ShardItem }[] }
  | { op: "emitWithAck"; room: string; shard: number; item: EmitItem; timeout: number }
  | { op: "restEmit"; room: string; shard: number; commands: EmitCommand[] }
  | { op: "socketsJoin" | "socketsLeave"; room: string; shard: number; selector: SocketSelector; rooms: string[] }
  | { op: "disconnectSockets"; room: string; shard: number; selector: SocketSelector; close: boolean }
  | { op: "fetchSockets"; room: string; shard: number; selector: SocketSelector }
  | { op: "info" | "stats"; room: string; shard: number }
  | { op: "serverSideEmit"; room: string; shard: number; event: string; args: unknown[]; timeout: number | null };

export interface ShardCallResults {
  assign: number;
  report: void;
  active: number[];
  placed: number[];
  dirLookup: number[];
  dirUpdate: void;
  invalidate: void;
  deliver: number[];
  emitWithAck: AckResult;
  restEmit: EmitOutcome[];
  socketsJoin: number;
  socketsLeave: number;
  disconnectSockets: number;
  fetchSockets: SocketDescription[];
  info: RoomInfo;
  stats: RoomStatsReport;
  serverSideEmit: unknown[];
}

/** The RPC surface every room class has (SocketIORoom.shardCall). */
export interface ShardRpc {
  shardCall(call: ShardCall): Promise<unknown>;
}

/** Calls `shardCall` on the object of that name. */
export function callObject<C extends ShardCall>(rooms: DurableObjectNamespace, name: string, call: C): Promise<ShardCallResults[C["op"]]> {
  const stub = rooms.get(rooms.idFromName(name)) as unknown as ShardRpc;
  return stub.shardCall(call) as Promise<ShardCallResults[C["op"]]>;
}
