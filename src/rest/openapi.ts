/**
 * OpenAPI 3.1 description of the REST API, served at GET /v1/openapi.json.
 * Limits come from limits.ts, so the description cannot drift from the code.
 */
import { COUNTERS, ERROR_KINDS } from "../room/room-stats";
import { RESERVED_EVENTS } from "../socket.io/protocol";
import {
  IDEMPOTENCY_WINDOW_MS,
  MAX_ARGS_DEPTH,
  MAX_BATCH_ITEMS,
  MAX_BODY_BYTES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_LIST_ENTRIES,
  MAX_NAME_LENGTH,
} from "./limits";

const json = (schema: object) => ({ "application/json": { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (description: string, schema: object) => ({ description, content: json(schema) });
const error = (description: string) => response(description, ref("Error"));

/** Refusals every authenticated operation may answer. */
const commonErrors = {
  "400": error("Malformed JSON, a field of the wrong type or an unknown field, an invalid room name"),
  "401": error("Missing or invalid API key"),
  "403": error("No API key configured on the server (the API fails closed), or an Origin CORS_ORIGINS does not allow"),
  "405": error("Wrong method for this path"),
  "500": error("The room failed to process the request"),
  "503": error("The room is temporarily unavailable; retrying is safe (with the same Idempotency-Key for emits)"),
};
const bodyErrors = { ...commonErrors, "413": error(`Body larger than ${MAX_BODY_BYTES} bytes`) };

const nameList = (description: string) => ({
  type: "array",
  items: { type: "string", minLength: 1, maxLength: MAX_NAME_LENGTH },
  maxItems: MAX_LIST_ENTRIES,
  description,
});

const selectorProperties = {
  namespace: {
    type: "string",
    default: "/",
    maxLength: MAX_NAME_LENGTH,
    description: 'Socket.IO namespace ("/chat"; a missing leading "/" is added).',
  },
  rooms: nameList(
    "Sub-rooms inside the room (socket.join); selects sockets in any of them. A socket id is a room of its own. " +
      "Empty or missing: every socket of the namespace.",
  ),
  sockets: nameList("Socket ids; selects these sockets too (same as listing them in `rooms`)."),
  except: nameList("Sub-rooms or socket ids whose sockets are left out."),
};

const roomParameter = {
  name: "room",
  in: "path",
  required: true,
  description:
    "The top-level room: the one a Socket.IO client picks with the `room` query parameter (one Durable Object).",
  schema: { type: "string", pattern: "^[A-Za-z0-9._:@~-]{1,128}$" },
};

const idempotencyKeyParameter = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    `Makes a retried publish deliver once: the room remembers the key for ${IDEMPOTENCY_WINDOW_MS / 3_600_000} hours ` +
    "and answers a repeat with the first result (and `Idempotent-Replayed: true`) without delivering again. " +
    "The same key with a different body is refused (422). For a batch, each item is remembered by its room under " +
    `the key and the item's position. 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters.`,
  schema: { type: "string", minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY_LENGTH },
};

const emitProperties = {
  event: {
    type: "string",
    minLength: 1,
    maxLength: MAX_NAME_LENGTH,
    not: { enum: [...RESERVED_EVENTS] },
    description: `Event name. Reserved by Socket.IO, refused: ${[...RESERVED_EVENTS].join(", ")}.`,
  },
  args: {
    type: "array",
    default: [],
    description:
      'Event arguments, any JSON. Binary values are written {"$binary": "<base64>"} (RFC 4648 base64, ' +
      `padding optional) and reach Socket.IO clients as binary. Nested at most ${MAX_ARGS_DEPTH} levels.`,
    items: {},
  },
  ...selectorProperties,
  volatile: {
    type: "boolean",
    default: false,
    description:
      "Socket.IO's volatile flag: the event is not sent to sockets that cannot take it at once " +
      "(a polling client between two requests) instead of being queued for them; `sockets` counts those it was sent to.",
  },
};

const roomInfoProperties = {
  room: { type: "string" },
  connections: { type: "integer", description: "Engine.IO connections (with or without a namespace)" },
  sockets: { type: "integer", description: "Sockets in all namespaces" },
  namespaces: {
    type: "object",
    additionalProperties: { type: "integer" },
    description: "Sockets per namespace, for namespaces with at least one",
  },
};

/** Every counter and error kind of the room's stats, with one schema for their values. */
function counterSchema(value: object, description: string): object {
  const of = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, value]));
  return {
    type: "object",
    description:
      `${description}. Errors by kind: parse_error, message_too_big, ping_timeout and transport_error closed a connection, ` +
      "connect_timeout closed one that joined no namespace in time, connect_refused refused a handshake (allowRequest) or a namespace CONNECT, " +
      "rate_limited closed one over its packet rate (MAX_PACKET_RATE), outbox_full a polling one that let too much wait for its next GET.",
    required: [...COUNTERS, "errors"],
    properties: { ...of(COUNTERS), errors: { type: "object", required: [...ERROR_KINDS], properties: of(ERROR_KINDS) } },
  };
}

export function openApiDocument(serverUrl: string): object {
  return {
    openapi: "3.1.0",
    info: {
      title: "socketio-edge REST API",
      version: "1.0.0",
      description:
        "Publish events to Socket.IO rooms, read presence and stats and manage sockets from any backend. " +
        "A room in the path is a top-level room (one Durable Object); `rooms` in bodies are sub-rooms inside it. " +
        `Limits: bodies up to ${MAX_BODY_BYTES} bytes, batches up to ${MAX_BATCH_ITEMS} items, ` +
        `names up to ${MAX_NAME_LENGTH} characters, lists up to ${MAX_LIST_ENTRIES} entries. ` +
        'Errors are {"error": {"code", "message"}}.',
    },
    servers: [{ url: `${serverUrl}/v1` }],
    security: [{ apiKey: [] }],
    paths: {
      "/rooms/{room}/emit": {
        post: {
          operationId: "emit",
          summary: "Emit an event to the sockets of a room",
          parameters: [roomParameter, idempotencyKeyParameter],
          requestBody: { required: true, content: json(ref("Emit")) },
          responses: {
            "200": response("Delivered (or replayed: see Idempotency-Key)", ref("EmitResult")),
            ...bodyErrors,
            "422": error("Idempotency-Key already used with a different body"),
          },
        },
      },
      "/emit": {
        post: {
          operationId: "emitBatch",
          summary: `Emit many events to many rooms (at most ${MAX_BATCH_ITEMS} items)`,
          description:
            "Every item is validated before any is delivered: one invalid item refuses the whole batch (400). " +
            "Items then run in order within a room, rooms in parallel; each item has its own result.",
          parameters: [idempotencyKeyParameter],
          requestBody: {
            required: true,
            content: json({
              type: "object",
              required: ["items"],
              additionalProperties: false,
              properties: {
                items: {
                  type: "array",
                  minItems: 1,
                  maxItems: MAX_BATCH_ITEMS,
                  items: ref("BatchItem"),
                },
              },
            }),
          },
          responses: {
            "200": response("One result per item, in order", {
              type: "object",
              properties: { results: { type: "array", items: ref("BatchResult") } },
            }),
            ...bodyErrors,
          },
        },
      },
      "/rooms/{room}": {
        get: {
          operationId: "roomInfo",
          summary: "Presence: connections, and sockets per namespace",
          parameters: [roomParameter],
          responses: { "200": response("The room", ref("RoomInfo")), ...commonErrors },
        },
      },
      "/rooms/{room}/stats": {
        get: {
          operationId: "roomStats",
          summary: "Operator stats: live connections by transport and namespace, counters since start and per minute",
          description:
            "Counted by the room object itself: messages are Engine.IO messages (out: one per recipient), " +
            "sizes are as sent over a WebSocket (text in UTF-16 units, exact for ASCII). Counts survive hibernation " +
            "and eviction: they are saved a second or two after the room goes quiet, at least once a minute while it " +
            "is busy, and at every alarm (what a room counted in the seconds before it was shut down may be missing).",
          parameters: [roomParameter],
          responses: { "200": response("The room's stats", ref("RoomStats")), ...commonErrors },
        },
      },
      "/rooms/{room}/sockets": {
        get: {
          operationId: "fetchSockets",
          summary: "The selected sockets: ids, rooms, data and handshake (like socket.io's fetchSockets)",
          parameters: [
            roomParameter,
            { name: "namespace", in: "query", schema: selectorProperties.namespace },
            ...(["rooms", "sockets", "except"] as const).map((name) => ({
              name,
              in: "query",
              description: `${selectorProperties[name].description} Repeat the parameter for several.`,
              schema: selectorProperties[name],
              style: "form",
              explode: true,
            })),
          ],
          responses: {
            "200": response("The sockets", {
              type: "object",
              properties: { room: { type: "string" }, sockets: { type: "array", items: ref("Socket") } },
            }),
            ...commonErrors,
          },
        },
      },
      "/rooms/{room}/join": {
        post: {
          operationId: "socketsJoin",
          summary: "Make the selected sockets join sub-rooms",
          parameters: [roomParameter],
          requestBody: {
            required: true,
            content: json(selectorBody({ join: nameList("Sub-rooms to join (at least one).") }, ["join"])),
          },
          responses: { "200": response("How many sockets were selected", ref("Count")), ...bodyErrors },
        },
      },
      "/rooms/{room}/leave": {
        post: {
          operationId: "socketsLeave",
          summary: "Make the selected sockets leave sub-rooms",
          parameters: [roomParameter],
          requestBody: {
            required: true,
            content: json(selectorBody({ leave: nameList("Sub-rooms to leave (at least one).") }, ["leave"])),
          },
          responses: { "200": response("How many sockets were selected", ref("Count")), ...bodyErrors },
        },
      },
      "/rooms/{room}/disconnect": {
        post: {
          operationId: "disconnectSockets",
          summary: "Disconnect the selected sockets (every socket of the namespace when nothing is selected)",
          parameters: [roomParameter],
          requestBody: {
            required: false,
            content: json(
              selectorBody(
                {
                  close: {
                    type: "boolean",
                    default: false,
                    description: "Close the whole underlying connection (every namespace), not only the namespace.",
                  },
                },
                [],
              ),
            ),
          },
          responses: { "200": response("How many sockets were disconnected", ref("Count")), ...bodyErrors },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openapi",
          summary: "This description (no API key needed)",
          security: [],
          responses: { "200": { description: "OpenAPI 3.1 document", content: json({ type: "object" }) } },
        },
      },
    },
    components: {
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "The Worker secret API_KEY (or API_KEY_NEXT while rotating): `wrangler secret put API_KEY`.",
        },
      },
      schemas: {
        Emit: {
          type: "object",
          required: ["event"],
          additionalProperties: false,
          properties: emitProperties,
        },
        BatchItem: {
          type: "object",
          required: ["room", "event"],
          additionalProperties: false,
          properties: { room: { ...roomParameter.schema, description: roomParameter.description }, ...emitProperties },
        },
        EmitResult: {
          type: "object",
          required: ["sockets", "replayed"],
          properties: {
            sockets: { type: "integer", description: "How many sockets the event was sent to" },
            replayed: { type: "boolean", description: "True when the Idempotency-Key was seen: not delivered again" },
          },
        },
        BatchResult: {
          oneOf: [
            {
              type: "object",
              required: ["room", "ok", "sockets", "replayed"],
              properties: {
                room: { type: "string" },
                ok: { const: true },
                sockets: { type: "integer" },
                replayed: { type: "boolean" },
              },
            },
            {
              type: "object",
              required: ["room", "ok", "status", "error"],
              properties: {
                room: { type: "string" },
                ok: { const: false },
                status: { type: "integer", description: "The HTTP status this item alone would have had" },
                error: { $ref: "#/components/schemas/Error/properties/error" },
              },
            },
          ],
        },
        RoomInfo: { type: "object", properties: roomInfoProperties },
        RoomStats: {
          type: "object",
          properties: {
            ...roomInfoProperties,
            transports: {
              type: "object",
              properties: { websocket: { type: "integer" }, polling: { type: "integer" } },
              description: "Live Engine.IO connections by transport (one probing an upgrade still counts as polling)",
            },
            startedAt: { type: "integer", description: "When the room first started counting (ms since epoch)" },
            awakeSince: { type: "integer", description: "When the object last woke (was constructed), ms since epoch" },
            sinceStart: counterSchema({ type: "integer" }, "Counts since startedAt"),
            perMinute: {
              type: "object",
              description: "The last 60 minutes, oldest first, the current minute last",
              properties: {
                start: { type: "integer", description: "Start of the first minute (ms since epoch)" },
                minutes: { type: "integer", const: 60 },
                counts: counterSchema({ type: "array", items: { type: "integer" }, minItems: 60, maxItems: 60 }, "One value per minute"),
              },
            },
          },
        },
        Socket: {
          type: "object",
          properties: {
            id: { type: "string" },
            namespace: { type: "string" },
            rooms: { type: "array", items: { type: "string" }, description: "Sub-rooms, including the socket's own id" },
            data: { description: 'socket.data (binary values as {"$binary": "<base64>"})' },
            handshake: {
              type: "object",
              properties: {
                auth: { type: "object" },
                query: {
                  type: "object",
                  additionalProperties: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
                  description: "Every query parameter of the handshake as sent; a repeated one as an array",
                },
                headers: { type: "object", additionalProperties: { type: "string" }, description: "Request headers within 4 KB, cookie first" },
                address: { type: ["string", "null"] },
                xdomain: { type: "boolean" },
                secure: { type: "boolean" },
                url: { type: "string" },
                issued: { type: "integer" },
                time: { type: "string" },
              },
            },
          },
        },
        Count: {
          type: "object",
          required: ["sockets"],
          properties: { sockets: { type: "integer", description: "How many sockets were selected" } },
        },
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: {
                code: {
                  type: "string",
                  description:
                    "Stable: malformed_json, invalid_request, reserved_event, invalid_room, invalid_idempotency_key, " +
                    "payload_too_large, missing_api_key, invalid_api_key, api_key_not_configured, forbidden_origin, " +
                    "not_found, method_not_allowed, idempotency_key_reused, room_unavailable, internal_error",
                },
                message: { type: "string" },
              },
            },
          },
        },
      },
    },
  };
}

function selectorBody(extra: Record<string, object>, required: string[]): object {
  return { type: "object", additionalProperties: false, required, properties: { ...selectorProperties, ...extra } };
}
