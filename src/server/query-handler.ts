/**
 * The listener edge: every packet from UDP or TCP comes through here. It
 * parses once, runs the stage chain, fits the answer to the client's UDP
 * buffer, sends it, and records metrics and the decision log once. Nothing
 * thrown below ever escapes into a socket handler: it becomes SERVFAIL.
 *
 * Size bounds at the edge: a UDP reply is never larger than the smaller of
 * the client's advertised size and `udpMaxPayload` (default 1232, DNS Flag
 * Day 2020), else it goes out as TC=1 with no records: a 43-byte query can
 * no longer pull a fragmented 21 KB answer toward a spoofed address. A TCP
 * reply over 65,535 bytes (no frame can carry it) goes out as TC=1 too,
 * where it used to throw and leave the client with nothing. A query larger
 * than MAX_QUERY_BYTES is answered FORMERR: no real query is that big, and
 * a waiting query must not pin a 64 KB datagram in memory.
 */
import { performance } from 'node:perf_hooks'
import { emptyReply, findQuestionEnd, malformedReply, truncatedReply } from '../dns/build-reply.js'
import { FLAG, HEADER_LENGTH, RCODE, UDP_SIZE_ADVERTISED, UDP_SIZE_NO_EDNS } from '../dns/constants.js'
import { PARSE_DROP, PARSE_FORMERR, parseQuery, type ParseFailure } from '../dns/parse-query.js'
import type { Query } from '../pipeline/query.js'
import type { Next, Reply, ReplySource } from '../pipeline/types.js'
import type { PolicySnapshot } from '../lists/policy-snapshot.js'
import type { Transport } from '../pipeline/transport.js'

/** Where an answer goes: the UDP socket (to address:port) or the TCP connection. */
export interface ReplySink {
  send(wire: Buffer, address: string, port: number): void
  /** Told when a query gets no answer at all (TCP frees its slot). */
  dropped?(): void
}

/** What the edge reports per query; metrics and the decision log implement it. */
export interface QueryObserver {
  observe(q: Query | null, transport: Transport, source: ReplySource | 'dropped', reply: Reply | null, seconds: number): void
  error?(q: Query, e: unknown): void
}

export interface QueryHandlerOptions {
  /** Largest UDP reply we send, whatever the client advertises (default 1232). */
  readonly udpMaxPayload?: number
}

/** Largest query we take: a question (<= 260 bytes) plus EDNS options with room to spare. */
export const MAX_QUERY_BYTES = 4096
/** Largest message a TCP frame carries (RFC 1035 s4.2.2). */
const TCP_MAX = 0xffff

export class QueryHandler {
  private pending = 0
  private idle: Array<() => void> = []
  private readonly udpMax: number

  constructor(
    private readonly chain: Next,
    private readonly snapshot: () => PolicySnapshot,
    private readonly now: () => number,
    private readonly observer: QueryObserver,
    opts: QueryHandlerOptions = {},
  ) {
    this.udpMax = Math.max(UDP_SIZE_NO_EDNS, Math.min(TCP_MAX, opts.udpMaxPayload ?? UDP_SIZE_ADVERTISED))
  }

  /** Queries whose answer is still being worked out (for graceful shutdown). */
  get inFlight(): number {
    return this.pending
  }

  /** Resolves when no query is in flight. */
  drained(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve))
  }

  handle(wire: Buffer, address: string, port: number, transport: Transport, sink: ReplySink): void {
    const started = performance.now()
    const q = wire.length > MAX_QUERY_BYTES ? oversized(wire) : parseQuery(wire, address, port, transport, this.now())
    if (typeof q === 'number') {
      if (q === PARSE_DROP) {
        sink.dropped?.()
        return this.observer.observe(null, transport, 'dropped', null, 0)
      }
      sink.send(malformedReply(wire, q, echoableQuestionEnd(wire)), address, port)
      const source = q === RCODE.NOTIMP ? 'notimp' : 'formerr'
      return this.observer.observe(null, transport, source, null, (performance.now() - started) / 1000)
    }
    q.snapshot = this.snapshot()
    let r: Reply | Promise<Reply>
    try {
      r = this.chain(q)
    } catch (e) {
      r = this.failed(q, e)
    }
    if (r instanceof Promise) {
      this.pending++
      // One then, no finally: a miss already pays for the forward and cache stages' promises.
      r.then(
        (x) => this.settled(q, x, sink, started),
        (e: unknown) => this.settled(q, this.failed(q, e), sink, started),
      )
    } else {
      this.finish(q, r, sink, started)
    }
  }

  private settled(q: Query, r: Reply, sink: ReplySink, started: number): void {
    try {
      this.finish(q, r, sink, started)
    } finally {
      if (--this.pending === 0) for (const f of this.idle.splice(0)) f()
    }
  }

  private failed(q: Query, e: unknown): Reply {
    this.observer.error?.(q, e)
    return { kind: 'answer', wire: emptyReply(q, RCODE.SERVFAIL), source: 'servfail' }
  }

  private finish(q: Query, r: Reply, sink: ReplySink, started: number): void {
    if (r.kind === 'answer') {
      // RFC 1035 s4.2.1 / RFC 6891 s7: too big for the client's UDP buffer (or ours) -> TC=1, retry over TCP.
      const limit = q.transport === 'udp' ? (q.udpSize < this.udpMax ? q.udpSize : this.udpMax) : TCP_MAX
      const wire = r.wire.length > limit ? truncatedReply(q, r.wire) : r.wire
      try {
        sink.send(wire, q.clientAddress, q.clientPort)
      } catch (e) {
        this.observer.error?.(q, e)
      }
    } else {
      sink.dropped?.()
    }
    this.observer.observe(q, q.transport, r.source, r, (performance.now() - started) / 1000)
  }
}

/** An oversized packet: FORMERR, or nothing when it is a response (answering one could start a loop). */
const oversized = (wire: Buffer): ParseFailure => ((wire.readUInt16BE(2) & FLAG.QR) !== 0 ? PARSE_DROP : PARSE_FORMERR)

/** Where the question ends if it may be echoed; -1 when it is not a legal name (over 255 bytes), which no reply may carry. */
function echoableQuestionEnd(wire: Buffer): number {
  const end = findQuestionEnd(wire)
  return end - 4 - HEADER_LENGTH > 255 ? -1 : end
}
