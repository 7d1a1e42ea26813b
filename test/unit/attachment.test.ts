import { describe, expect, it } from "vitest";
import {
  attachmentBytes,
  attachmentSummary,
  decodeAttachment,
  encodeAttachment,
  isAttachmentOf,
  isStoredAttachment,
  isUpgradeAttachment,
  type SessionAttachment,
} from "../../src/engine.io/attachment";

const state = { room: "lobby", note: "line one\nline two", sockets: { "/": { id: "abc", rooms: ["r1"] } } };
const session: SessionAttachment<typeof state> = { sid: "sid-1", createdAt: 1_000, lastPongAt: 2_000, state };

describe("a session's stored attachment", () => {
  it("gives back the whole attachment, whatever its state holds", () => {
    const stored = encodeAttachment(session, '[["/","abc","r1"]]');
    expect(decodeAttachment(stored)).toEqual(session);
    expect(isStoredAttachment(stored)).toBe(true);
    expect(isUpgradeAttachment(stored)).toBe(false);
  });

  it("reads the summary and the sid without parsing the state", () => {
    const stored = encodeAttachment(session, '[["/","abc","r1"]]');
    expect(attachmentSummary(stored)).toBe('[["/","abc","r1"]]');
    expect(isAttachmentOf(stored, "sid-1")).toBe(true);
    expect(isAttachmentOf(stored, "sid-")).toBe(false);
    expect(isAttachmentOf(stored, "sid-12")).toBe(false);
    expect(attachmentSummary(encodeAttachment(session, ""))).toBe("");
  });

  it("marks a WebSocket that only probes an upgrade", () => {
    const stored = encodeAttachment({ ...session, upgrading: true }, "");
    expect(isUpgradeAttachment(stored)).toBe(true);
    expect(decodeAttachment(stored)).toEqual({ ...session, upgrading: true });
  });

  it("refuses a summary that could not be told from the state", () => {
    expect(() => encodeAttachment(session, "a\nb")).toThrow(/line feed/);
  });

  it("does not take another value for one of its own", () => {
    for (const value of [null, undefined, { sid: "x" }, "", "s", "s\n", "x\n\n{}", 42]) expect(isStoredAttachment(value)).toBe(false);
    expect(isStoredAttachment("s\n\n{}")).toBe(true);
  });

  it("counts two bytes a character once one needs them, as the runtime stores it", () => {
    expect(attachmentBytes("s1\n[]\n{}")).toBe(8);
    expect(attachmentBytes("é".repeat(4))).toBe(4);
    expect(attachmentBytes("ab€")).toBe(6);
    expect(attachmentBytes("😀")).toBe(4);
  });
});
