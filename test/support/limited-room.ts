import { RelayRoom } from "../../src/apps/relay";
import type { ServerSettings } from "../../src/server/server";

/** The relay with a low packet rate set in code, to test the per-connection limit. */
export class LimitedRoom extends RelayRoom {
  protected override serverSettings(): ServerSettings {
    return { ...super.serverSettings(), maxPacketRate: 20, packetBurst: 40 };
  }
}
