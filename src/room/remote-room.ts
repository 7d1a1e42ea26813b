import type { Env } from "../config";
import type { RemoteRoom } from "../server/server";
import { roomApi } from "../shard/room-api";

/**
 * Emits into another room object through its RPC method `restEmit` (the one the
 * REST API uses; every shard of a sharded room). A socket is in exactly one room object, so a message sent to
 * several rooms reaches each socket once.
 */
export function remoteRoom(
  env: Env,
  room: string,
  selector = { namespace: "/", rooms: [] as string[], except: [] as string[] },
): RemoteRoom {
  const withSelector = (change: Partial<typeof selector>) => remoteRoom(env, room, { ...selector, ...change });
  const list = (r: string | readonly string[]) => (typeof r === "string" ? [r] : [...r]);
  return {
    of: (namespace) => withSelector({ namespace: namespace.startsWith("/") ? namespace : "/" + namespace }),
    to: (r) => withSelector({ rooms: [...selector.rooms, ...list(r)] }),
    in: (r) => withSelector({ rooms: [...selector.rooms, ...list(r)] }),
    except: (r) => withSelector({ except: [...selector.except, ...list(r)] }),
    async emit(event, ...args) {
      // A sharded room: every shard holding recipients (src/shard/room-api.ts).
      const [outcome] = await roomApi(env, room).restEmit([{ ...selector, event, args, volatile: false }]);
      if (!outcome.ok) throw new Error(outcome.error.message);
      return outcome.sockets;
    },
  };
}
