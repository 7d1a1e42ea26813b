/**
 * The WebSocket ping schedule of a room, as pure functions (the Durable Object
 * glue is in src/room/engine-room.ts).
 *
 * A room pings its WebSockets in rounds, once per ping interval, from one
 * alarm. A connection's first ping is its own: never before pingInterval after
 * its handshake (the spec, and clients that count frames, expect nothing else
 * first). Handshakes are grouped in ticks of a tenth of the shorter of
 * pingInterval and pingTimeout, so the first pings of one tick's newcomers go out
 * together, at most one tick late (well within the client's pingTimeout).
 * After its first ping a connection is pinged with every round, except a round
 * that comes soon after that first ping (two pings close together would reach a
 * client that reads the frame after a ping as the answer it waits for).
 */

/** Kept in storage: the alarm after a wake needs it to judge pongs and to know what is due. */
export interface HeartbeatState {
  /** Times of the last rounds, newest last. */
  pings: number[];
  /** When the next round is due. */
  nextPingAt: number;
  /** Every connection whose first ping fell due by then has been pinged. */
  firstPingsUpTo: number;
}

export interface HeartbeatTiming {
  pingInterval: number;
  pingTimeout: number;
}

export function emptyHeartbeat(): HeartbeatState {
  return { pings: [], nextPingAt: 0, firstPingsUpTo: 0 };
}

/** Length of the ticks handshakes are grouped in. */
export function tickLength({ pingInterval, pingTimeout }: HeartbeatTiming): number {
  return Math.max(1, Math.floor(Math.min(pingInterval, pingTimeout) / 10));
}

/** When a connection opened at `createdAt` gets its first ping: the end of its tick, plus pingInterval. */
export function firstPingAt(createdAt: number, timing: HeartbeatTiming): number {
  const tick = tickLength(timing);
  return Math.ceil((createdAt + timing.pingInterval) / tick) * tick;
}

/**
 * A round leaves out connections whose first ping is more recent than this: the
 * next round reaches them less than pingInterval + pingTimeout / 2 after it.
 */
export function firstPingSettles({ pingInterval, pingTimeout }: HeartbeatTiming): number {
  return Math.floor(Math.min(pingInterval, pingTimeout) / 2);
}

/** A round may come up to one tick early: a round ahead of time costs nothing, an extra wake does. */
export function roundDue(state: HeartbeatState, now: number, timing: HeartbeatTiming): boolean {
  return now >= state.nextPingAt - tickLength(timing);
}

/**
 * The round that pongs are judged against: the newest one whose pong deadline
 * has passed. A connection pinged in it (first ping due by then) must have
 * answered after it.
 */
export function judgedRound(state: HeartbeatState, now: number, { pingTimeout }: HeartbeatTiming): number | undefined {
  return state.pings.filter((t) => t + pingTimeout <= now).pop();
}

/** The state after a round at `now`. */
export function afterRound(state: HeartbeatState, now: number, { pingInterval, pingTimeout }: HeartbeatTiming): HeartbeatState {
  return {
    pings: [...state.pings.filter((t) => t > now - pingInterval - pingTimeout), now].slice(-4),
    nextPingAt: now + pingInterval,
    firstPingsUpTo: now,
  };
}
