import type { RemoteRoom } from "../server/server";
import type { SocketIORoom } from "./socketio-room";

/**
 * Emits into another room object through its RPC method `restEmit` (the one the
 * REST API uses). A socket is in exactly one room object, so a message sent to
 * several rooms reaches each socket once.
 */
export function remoteRoom(
  rooms: DurableObjectNamespace,
  room: string,
  selector = { namespace: "/", rooms: [] as string[], except: [] as string[] },
): RemoteRoom {
  const withSelector = (change: Partial<typeof selector>) => remoteRoom(rooms, room, { ...selector, ...change });
  const list = (r: string | readonly string[]) => (typeof r === "string" ? [r] : [...r]);
  return {
    of: (namespace) => withSelector({ namespace: namespace.startsWith("/") ? namespace : "/" + namespace }),
    to: (r) => withSelector({ rooms: [...selector.rooms, ...list(r)] }),
    in: (r) => withSelector({ rooms: [...selector.rooms, ...list(r)] }),
    except: (r) => withSelector({ except: [...selector.except, ...list(r)] }),
    async emit(event, ...args) {
      const stub = rooms.get(rooms.idFromName(room)) as unknown as DurableObjectStub<SocketIORoom>;
      const [outcome] = await stub.restEmit([{ ...selector, event, args, volatile: false }]);
      if (!outcome.ok) throw new Error(outcome.error.message);
      return outcome.sockets;
    },
  };
}
