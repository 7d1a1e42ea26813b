/**
 * A token bucket per connection over the packets it sends (every Engine.IO
 * packet: messages, binary attachments, pings, each record of a polling POST).
 * It holds `burst` tokens and refills `perSecond` of them a second; a packet
 * takes one. Pure: the clock is passed in.
 */
export interface PacketRate {
  /** Sustained packets per second a connection may send; 0: no limit. */
  perSecond: number;
  /** Packets it may send at once, after a quiet time. */
  burst: number;
}

export class PacketBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly rate: PacketRate,
    now: number,
  ) {
    this.tokens = rate.burst;
    this.updatedAt = now;
  }

  /** Takes a token per packet; false (taking none) when the connection is over its rate. */
  take(now: number, packets = 1): boolean {
    const { perSecond, burst } = this.rate;
    if (perSecond === 0) return true;
    if (now > this.updatedAt) {
      this.tokens = Math.min(burst, this.tokens + ((now - this.updatedAt) * perSecond) / 1000);
      this.updatedAt = now;
    }
    if (this.tokens < packets) return false;
    this.tokens -= packets;
    return true;
  }
}
