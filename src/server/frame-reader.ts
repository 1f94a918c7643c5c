/**
 * Splits a TCP byte stream into DNS messages (the 2-byte length prefix of
 * RFC 1035 s4.2.2 / RFC 7766 s8). The one reader for both ends: the client
 * listener and the upstream TCP exchange.
 *
 * Pull-based: push() stores a chunk, next() hands out one complete message
 * or undefined. The caller decides how many to take, so a listener at its
 * in-flight cap simply stops calling next() and the rest of the chunk waits
 * here (it is never lost, never parsed early). Each byte is copied at most
 * once: a message inside one chunk is a view of it, a message split across
 * chunks is gathered into one buffer of its announced length, so a frame
 * delivered byte by byte costs O(n), not O(n^2).
 */
export class FrameReader {
  /** Unconsumed chunks; chunks[head] is read from `offset`. */
  private chunks: Buffer[] = []
  private head = 0
  private offset = 0
  private available = 0

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.available += chunk.length
  }

  /** Bytes received and not yet handed out. */
  get buffered(): number {
    return this.available
  }

  /** The next complete message, or undefined until more bytes arrive. */
  next(): Buffer | undefined {
    if (this.available < 2) return undefined
    const first = this.chunks[this.head]!
    const length = this.offset + 1 < first.length ? first.readUInt16BE(this.offset) : (first[this.offset]! << 8) | this.chunks[this.head + 1]![0]!
    if (this.available < 2 + length) return undefined
    this.skip(2)
    return this.take(length)
  }

  private skip(n: number): void {
    this.available -= n
    while (n > 0) {
      const c = this.chunks[this.head]!
      const step = Math.min(n, c.length - this.offset)
      n -= step
      this.advance(c, step)
    }
  }

  private take(n: number): Buffer {
    const c = this.chunks[this.head]
    if (c === undefined || n === 0) return Buffer.alloc(0)
    this.available -= n
    if (c.length - this.offset >= n) {
      const view = c.subarray(this.offset, this.offset + n)
      this.advance(c, n)
      return view
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const src = this.chunks[this.head]!
      const step = Math.min(n - filled, src.length - this.offset)
      src.copy(out, filled, this.offset, this.offset + step)
      filled += step
      this.advance(src, step)
    }
    return out
  }

  private advance(c: Buffer, n: number): void {
    this.offset += n
    if (this.offset < c.length) return
    this.offset = 0
    this.head++
    // Compact now and then, so the array does not grow with the connection's lifetime.
    if (this.head === this.chunks.length) {
      this.chunks = []
      this.head = 0
    } else if (this.head >= 1024) {
      this.chunks = this.chunks.slice(this.head)
      this.head = 0
    }
  }
}
