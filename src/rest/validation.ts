/**
 * Request shapes of the REST API. Everything is checked here, in the Worker,
 * before any room is called: a refused request delivers nothing.
 */
import { RESERVED_EVENTS } from "../socket.io/protocol";
import { ROOM_NAME } from "../worker/rooms";
import { BinaryJsonError, decodeBinaryJson } from "./binary-json";
import type { EmitCommand, SocketSelector } from "./commands";
import { ApiError, invalid } from "./errors";
import {
  MAX_ARGS_DEPTH,
  MAX_BATCH_ITEMS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_LIST_ENTRIES,
  MAX_NAME_LENGTH,
} from "./limits";

type JsonObject = Record<string, unknown>;

const SELECTOR_FIELDS = ["namespace", "rooms", "except", "sockets"] as const;
const EMIT_FIELDS = [...SELECTOR_FIELDS, "event", "args", "volatile"] as const;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** A top-level room (one Durable Object), as named in the URL or in a batch item. */
export function parseRoomName(value: unknown, where = "room"): string {
  if (typeof value !== "string" || !ROOM_NAME.test(value)) {
    throw new ApiError(
      400,
      "invalid_room",
      `${where}: a room name is 1 to 128 letters, digits or . _ : @ ~ - (got ${JSON.stringify(value)?.slice(0, 200)})`,
    );
  }
  return value;
}

/** `POST /v1/rooms/{room}/emit` body. */
export function parseEmit(body: JsonObject, path = ""): EmitCommand {
  rejectUnknownFields(body, EMIT_FIELDS, path);
  const event = body.event;
  if (event === undefined) throw invalid(`${at(path, "event")}: required`);
  const name = nameString(event, at(path, "event"));
  if (RESERVED_EVENTS.has(name)) {
    throw new ApiError(
      400,
      "reserved_event",
      `${at(path, "event")}: "${name}" is reserved by Socket.IO (reserved: ${[...RESERVED_EVENTS].join(", ")})`,
    );
  }
  const rawArgs = body.args ?? [];
  if (!Array.isArray(rawArgs)) throw invalid(`${at(path, "args")}: must be an array`);
  let args: unknown[];
  try {
    args = decodeBinaryJson(rawArgs, at(path, "args"), MAX_ARGS_DEPTH) as unknown[];
  } catch (error) {
    if (error instanceof BinaryJsonError) throw invalid(error.message);
    throw error;
  }
  const volatile = body.volatile ?? false;
  if (typeof volatile !== "boolean") throw invalid(`${at(path, "volatile")}: must be true or false`);
  return { ...parseSelectorFields(body, path), event: name, args, volatile };
}

export interface BatchItem {
  room: string;
  command: EmitCommand;
  /** The item as sent, for its idempotency fingerprint. */
  source: JsonObject;
}

/** `POST /v1/emit` body: `{ "items": [{ "room", ...emit fields }] }`. */
export function parseBatch(body: JsonObject): BatchItem[] {
  rejectUnknownFields(body, ["items"], "");
  const items = body.items;
  if (!Array.isArray(items)) throw invalid("items: required, an array of emits");
  if (items.length === 0) throw invalid("items: must not be empty");
  if (items.length > MAX_BATCH_ITEMS) throw invalid(`items: at most ${MAX_BATCH_ITEMS} per batch (got ${items.length})`);
  return items.map((item, i) => {
    const path = `items[${i}]`;
    if (!isObject(item)) throw invalid(`${path}: must be an object`);
    const { room, ...emit } = item;
    if (room === undefined) throw invalid(`${path}.room: required`);
    return { room: parseRoomName(room, `${path}.room`), command: parseEmit(emit, path), source: item };
  });
}

/** Selector of `POST .../disconnect` (plus `close`), `.../join` (plus `join`), `.../leave` (plus `leave`). */
export function parseSelector(body: JsonObject, extraFields: readonly string[]): SocketSelector {
  rejectUnknownFields(body, [...SELECTOR_FIELDS, ...extraFields], "");
  return parseSelectorFields(body, "");
}

/** Selector of `GET .../sockets` from its query: `namespace`, repeatable `rooms`, `except`, `sockets`. */
export function parseSelectorQuery(url: URL): SocketSelector {
  const body: JsonObject = {};
  for (const key of new Set(url.searchParams.keys())) {
    if (key === "namespace") body.namespace = url.searchParams.get(key);
    else body[key] = url.searchParams.getAll(key);
  }
  return parseSelector(body, []);
}

/** A required list of sub-room names (`join`, `leave`). */
export function parseRoomList(body: JsonObject, field: string): string[] {
  if (body[field] === undefined) throw invalid(`${field}: required, an array of room names`);
  const rooms = nameList(body[field], field);
  if (rooms.length === 0) throw invalid(`${field}: must not be empty`);
  return rooms;
}

export function parseOptionalBoolean(body: JsonObject, field: string): boolean {
  const value = body[field] ?? false;
  if (typeof value !== "boolean") throw invalid(`${field}: must be true or false`);
  return value;
}

/** The Idempotency-Key header: 1 to 255 visible ASCII characters, or absent. */
export function parseIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  if (header.length > MAX_IDEMPOTENCY_KEY_LENGTH || !VISIBLE_ASCII.test(header)) {
    throw new ApiError(
      400,
      "invalid_idempotency_key",
      `Idempotency-Key: 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters (a UUID is a good choice)`,
    );
  }
  return header;
}

// --- helpers ----------------------------------------------------------------

function parseSelectorFields(body: JsonObject, path: string): SocketSelector {
  const namespace = body.namespace === undefined ? "/" : nameString(body.namespace, at(path, "namespace"));
  const rooms = body.rooms === undefined ? [] : nameList(body.rooms, at(path, "rooms"));
  const sockets = body.sockets === undefined ? [] : nameList(body.sockets, at(path, "sockets"));
  const except = body.except === undefined ? [] : nameList(body.except, at(path, "except"));
  // A socket id is a room of its own: `sockets` adds to `rooms` (either selects).
  return { namespace: namespace.startsWith("/") ? namespace : "/" + namespace, rooms: [...rooms, ...sockets], except };
}

function nameString(value: unknown, where: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    throw invalid(`${where}: must be a string of 1 to ${MAX_NAME_LENGTH} characters`);
  }
  return value;
}

function nameList(value: unknown, where: string): string[] {
  if (!Array.isArray(value)) throw invalid(`${where}: must be an array of strings`);
  if (value.length > MAX_LIST_ENTRIES) throw invalid(`${where}: at most ${MAX_LIST_ENTRIES} entries`);
  return value.map((item, i) => nameString(item, `${where}[${i}]`));
}

function rejectUnknownFields(body: JsonObject, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(body)) {
    // Refused rather than ignored: a misspelt "rooms" would otherwise widen a broadcast to everyone.
    if (!allowed.includes(key)) throw invalid(`${at(path, key)}: unknown field (allowed: ${allowed.join(", ")})`);
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function at(path: string, field: string): string {
  return path === "" ? field : `${path}.${field}`;
}
