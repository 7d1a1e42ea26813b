/** The Worker in wrangler's local runtime (workerd), driven by real socket.io-client sockets. */
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestHarness } from "wrangler";
import type { ClientToServerEvents, ServerToClientEvents, Tally } from "../src/poll-room";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

let harness: ReturnType<typeof createTestHarness>;
let url: string;
const clients: Client[] = [];

beforeAll(async () => {
  harness = createTestHarness({ workers: [{ configPath: "./wrangler.toml" }] });
  url = (await harness.listen()).url.origin;
});
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});
afterAll(() => harness?.close());

function connect(room: string, voter: string | undefined, transports: string[] = ["polling", "websocket"]): Client {
  const client: Client = io(url, { query: { room }, auth: voter === undefined ? {} : { voter }, forceNew: true, transports });
  clients.push(client);
  return client;
}
const nextTally = (client: Client) => new Promise<Tally>((resolve) => client.once("tally", resolve));

describe("PollRoom", () => {
  it("refuses a client without a voter name", async () => {
    const client = connect("poll-1", undefined);
    const error = await new Promise<Error>((resolve) => client.once("connect_error", resolve));
    expect(error.message).toMatch(/auth\.voter/);
  });

  it("counts votes and shows the tally to every member of the room, over each transport", async () => {
    const ann = connect("poll-2", "ann", ["websocket"]);
    expect(await nextTally(ann)).toEqual({ yes: 0, no: 0 });
    const bob = connect("poll-2", "bob", ["polling"]);
    expect(await nextTally(bob)).toEqual({ yes: 0, no: 0 });

    const seenByAnn = nextTally(ann);
    expect(await bob.timeout(5000).emitWithAck("vote", "yes")).toEqual({ ok: true, tally: { yes: 1, no: 0 } });
    expect(await seenByAnn).toEqual({ yes: 1, no: 0 });
    expect(await ann.timeout(5000).emitWithAck("vote", "maybe")).toEqual({ ok: false, error: "vote one of: yes, no" });
    // One vote per name: voting again moves it.
    expect(await bob.timeout(5000).emitWithAck("vote", "no")).toEqual({ ok: true, tally: { yes: 0, no: 1 } });

    // Another room is another Durable Object, with a tally of its own.
    const carl = connect("poll-3", "carl");
    expect(await nextTally(carl)).toEqual({ yes: 0, no: 0 });
  });
});
