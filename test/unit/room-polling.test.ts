import { describe, expect, it } from "vitest";
import { pollingHandshake, pollUrl, sleep, worker } from "./support/clients";

const get = (sid: string) => worker.fetch(pollUrl(sid));
const post = (sid: string, body: string) => worker.fetch(pollUrl(sid), { method: "POST", body });

describe("HTTP long-polling", () => {
  it("opens a session whose id names the room object", async () => {
    const response = await worker.fetch("http://test/socket.io/?EIO=4&transport=polling&room=poll-1");
    expect(response.headers.get("Content-Type")).toMatch(/^text\/plain/);
    const open = JSON.parse((await response.text()).slice(1));
    expect(Object.keys(open).sort()).toEqual(["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    expect(open.sid).toMatch(/^[0-9a-f]{64}/);
  });

  it("refuses bad requests with the reference server's codes", async () => {
    const cases: [string, number, number][] = [
      ["EIO=3&transport=polling", 400, 5],
      ["EIO=4&transport=carrier-pigeon", 400, 0],
      ["EIO=4&transport=polling&sid=unknown", 400, 1],
      ["EIO=4&transport=polling&sid=" + "a".repeat(64) + "x", 400, 1],
      ["EIO=4&transport=polling&room=" + encodeURIComponent("no spaces"), 400, 3],
      ["EIO=4&transport=polling&room=" + "r".repeat(129), 400, 3],
    ];
    for (const [query, status, code] of cases) {
      const response = await worker.fetch("http://test/socket.io/?" + query);
      expect(response.status, query).toBe(status);
      expect((await response.json<{ code: number }>()).code, query).toBe(code);
    }
    const room = await worker.fetch("http://test/socket.io/?EIO=4&transport=polling&room=a%20b");
    expect(((await room.json()) as { message: string }).message).toMatch(/Invalid room name/);
  });

  it("round-trips Socket.IO packets, several per payload", async () => {
    const sid = await pollingHandshake(worker, "&room=poll-2");
    expect(await (await post(sid, "40")).text()).toBe("ok");
    const connect = await (await get(sid)).text();
    expect(connect).toMatch(/^40\{"sid":"[^"]+"\}$/);
    const other = await pollingHandshake(worker, "&room=poll-2");
    await post(other, "40");
    await get(other);
    // Two events in one POST reach the other socket in one GET.
    expect((await post(sid, '42["a",1]\x1e42["b",{"x":[true]}]')).status).toBe(200);
    expect(await (await get(other)).text()).toBe('42["a",1]\x1e42["b",{"x":[true]}]');
  });

  it("carries binary as base64 both ways", async () => {
    const sid = await pollingHandshake(worker, "&room=poll-3");
    const other = await pollingHandshake(worker, "&room=poll-3");
    for (const s of [sid, other]) {
      await post(s, "40");
      await get(s);
    }
    await post(sid, '451-["file",{"_placeholder":true,"num":0}]\x1ebAQID');
    expect(await (await get(other)).text()).toBe('451-["file",{"_placeholder":true,"num":0}]\x1ebAQID');
  });

  it("holds a GET until there is something to send", async () => {
    const sid = await pollingHandshake(worker, "&room=poll-4");
    const other = await pollingHandshake(worker, "&room=poll-4");
    for (const s of [sid, other]) {
      await post(s, "40");
      await get(s);
    }
    const pending = get(other);
    await sleep(50);
    await post(sid, '42["late"]');
    expect(await (await pending).text()).toBe('42["late"]');
  });

  it("closes the session on a duplicate GET", async () => {
    const sid = await pollingHandshake(worker, "&room=poll-5");
    const first = get(sid);
    await sleep(20);
    expect((await get(sid)).status).toBe(400);
    expect(await (await first).text()).toBe("1");
    expect((await get(sid)).status).toBe(400);
  });

  it("closes the session on a malformed payload, and only that one", async () => {
    const sid = await pollingHandshake(worker, "&room=poll-6");
    const bystander = await pollingHandshake(worker, "&room=poll-6");
    expect((await post(sid, "garbage")).status).toBe(400);
    expect((await get(sid)).status).toBe(400);
    expect(await (await post(bystander, "40")).text()).toBe("ok");
    expect(await (await get(bystander)).text()).toMatch(/^40/);
  });

  it("answers 413 to a payload over maxHttpBufferSize and closes that session", async () => {
    const sid = await pollingHandshake(worker, "&room=poll-7");
    const response = await post(sid, "4" + "x".repeat(1_000_001));
    expect(response.status).toBe(413);
    expect((await get(sid)).status).toBe(400);
  });

  it("ends a pending GET with a noop when the client closes", async () => {
    const sid = await pollingHandshake(worker, "&room=poll-8");
    const pending = get(sid);
    await sleep(20);
    await post(sid, "1");
    expect(await (await pending).text()).toBe("6");
    expect((await get(sid)).status).toBe(400);
  });

  it("pings and closes a session that does not answer within pingTimeout", async () => {
    // The unit project runs with pingInterval 300 ms and pingTimeout 200 ms.
    const sid = await pollingHandshake(worker, "&room=poll-9");
    expect(await (await get(sid)).text()).toBe("2");
    await post(sid, "3");
    expect(await (await get(sid)).text()).toBe("2");
    await sleep(600);
    expect((await get(sid)).status).toBe(400);
  });

  it("sends CORS headers to allowed browser origins and answers preflights", async () => {
    const response = await worker.fetch("http://test/socket.io/?EIO=4&transport=polling&room=poll-10", {
      headers: { Origin: "https://app.example" },
    });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    const preflight = await worker.fetch("http://test/socket.io/?EIO=4&transport=polling", {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Headers": "content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toContain("POST");
  });
});
