/**
 * What another shard sent, applied to this shard's own sockets: broadcasts
 * (encoded once here, as any local broadcast), socket operations, broadcasts
 * with acks. `local: true` keeps them from going out to other shards again.
 */
import { BroadcastOperator } from "../server/broadcast";
import type { Server } from "../server/server";
import { AckTimeoutError } from "../server/socket";
import type { AckResult, EmitItem, ShardItem } from "./calls";

/** Applies one item; returns how many of this shard's sockets it selected. */
export function applyLocally(io: Server, item: ShardItem): number {
  const nsp = io.existing(item.nsp);
  if (nsp === undefined || nsp.size === 0) return 0;
  let target = new BroadcastOperator(nsp, new Set(item.rooms), new Set(item.except), { local: true });
  if (item.kind === "emit") {
    if (item.volatile) target = target.volatile;
    return target.emit(item.event, ...item.args);
  }
  const sockets = target.localSocketsSync();
  for (const socket of sockets) {
    if (item.kind === "join") void socket.join(item.targets);
    else if (item.kind === "leave") for (const r of item.targets) socket.leave(r);
    else if (item.kind === "disconnect") socket.disconnect(item.close);
  }
  return sockets.length;
}

/** A broadcast with acks from another shard: resolves with this shard's answers, within `timeout`. */
export function emitWithAckLocally(io: Server, item: EmitItem, timeout: number): Promise<AckResult> {
  const nsp = io.existing(item.nsp);
  if (nsp === undefined) return Promise.resolve({ count: 0, responses: [], timedOut: false });
  const target = new BroadcastOperator(nsp, new Set(item.rooms), new Set(item.except), { local: true, timeout });
  return new Promise((resolve) => {
    let count = 0;
    count = target.emit(item.event, ...item.args, (error: Error | null, responses: unknown[]) =>
      resolve({ count, responses, timedOut: error !== null }),
    );
  });
}

/** Joins a local broadcast's acks with the other shards' (a broadcast with acks in a sharded room). */
export function mergeAcks(
  done: (error: Error | null, responses: unknown[]) => void,
  remote: Promise<AckResult>,
): (error: Error | null, responses: unknown[]) => void {
  return (error, responses) => {
    remote.then(
      (r) => done(error ?? (r.timedOut ? new AckTimeoutError() : null), [...responses, ...r.responses]),
      (failure) => done(failure instanceof Error ? failure : new Error(String(failure)), responses),
    );
  };
}
