/**
 * Lowers every TTL of an answer to at most `max` seconds, in place. Used for
 * answers let through by an exemption, so no client keeps one cached past
 * the exemption's end.
 */

/** `offsets` are the TTL fields of the records (UpstreamAnswer.ttlOffsets); the wire must be a per-client copy. */
export function capTtls(wire: Buffer, offsets: readonly number[], max: number): void {
  const cap = max > 0 ? Math.floor(max) : 0
  for (let i = 0; i < offsets.length; i++) {
    const off = offsets[i]
    if (off + 4 <= wire.length && wire.readUInt32BE(off) > cap) wire.writeUInt32BE(cap, off)
  }
}
