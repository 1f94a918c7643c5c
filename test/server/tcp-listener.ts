/**
 * The TCP listener against real loopback sockets, one bound per test: output
 * backpressure, idle connections destroyed, the in-flight cap within one
 * chunk, per-client and access checks at accept, linear reassembly.
 */
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { QueryHandler } from '../../src/server/query-handler.js'
import { TcpListener, type TcpCloseReason, type TcpListenerOptions } from '../../src/server/tcp-listener.js'
import type { Next, Reply } from '../../src/pipeline/types.js'
import type { PolicySnapshot } from '../../src/lists/policy-snapshot.js'
import { encodeQuery } from '../fixtures/dns-wire.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const frame = (m: Buffer) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])
const QUERY = frame(encodeQuery({ name: 'q.example', id: 1 }))

async function listen(t: { teardown(fn: () => unknown): void }, chain: Next, opts: Partial<TcpListenerOptions> = {}) {
  const closed: TcpCloseReason[] = []
  let open = 0
  const handler = new QueryHandler(chain, () => null as unknown as PolicySnapshot, () => 0, { observe() {} })
  const l = await TcpListener.bind('127.0.0.1', 0, handler, {
    idleTimeoutMs: 10_000, maxConnections: 50, ...opts,
    onClosed: (r) => void closed.push(r),
    onConnections: (d) => void (open += d),
  })
  t.teardown(() => l.close(0))
  return { port: l.port, closed, open: () => open }
}

const dial = (port: number, o: { localAddress?: string; allowHalfOpen?: boolean } = {}) =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ...o }, () => resolve(s))
    s.on('error', reject)
  })

/** Waits until `read()` stops changing for `quietMs`. */
async function settle(read: () => number, quietMs = 400, maxMs = 15_000): Promise<number> {
  let last = -1
  for (let waited = 0; waited < maxMs; waited += quietMs) {
    await sleep(quietMs)
    const now = read()
    if (now === last) return now
    last = now
  }
  return read()
}

const answer = (size: number): Next => (q) => {
  const wire = Buffer.alloc(size)
  q.wire.copy(wire, 0, 0, 12)
  wire[2] |= 0x80
  return { kind: 'answer', wire, source: 'cached' }
}

t.test('a client that never reads stops being served; its replies do not pile up in the process', async (t) => {
  // Before: every reply was queued with socket.write; 1,500 queries for a 21 KB answer grew RSS by 47 MB.
  let handled = 0
  const chain: Next = (q) => (handled++, answer(21_000)(q) as Reply)
  const l = await listen(t, chain)
  const s = await dial(l.port)
  s.pause() // never reads
  s.write(Buffer.concat(Array.from({ length: 4000 }, () => QUERY)))
  const steady = await settle(() => handled)
  // The kernel's buffers hold some megabytes first; the rest must wait unread.
  t.ok(steady < 2000, `only ${steady} of 4000 queries handled while the client does not read`)
  let got = 0
  s.on('data', (d: Buffer) => void (got += d.length))
  s.resume()
  await settle(() => handled, 300)
  t.equal(handled, 4000, 'once the client reads, every query is answered')
  s.destroy()
})

t.test('past the hard output bound the connection is cut', async (t) => {
  const chain: Next = (q) => new Promise<Reply>((r) => setTimeout(() => r(answer(21_000)(q) as Reply), 5))
  const l = await listen(t, chain, { outputPauseBytes: 64 * 1024, outputLimitBytes: 512 * 1024 })
  const s = await dial(l.port)
  s.pause() // a paused client would not even notice the reset, so the server side is watched
  s.write(Buffer.concat(Array.from({ length: 4000 }, () => QUERY)))
  await settle(() => l.open(), 300)
  t.equal(l.open(), 0, 'the server cut the connection')
  t.same(l.closed, ['output'])
  s.destroy()
})

t.test('an idle connection is destroyed, even when the peer never closes its side', async (t) => {
  // Before: the timeout only half-closed, and a peer that never sent FIN kept the slot for good.
  const l = await listen(t, answer(100), { idleTimeoutMs: 100 })
  const s = await dial(l.port, { allowHalfOpen: true })
  s.on('end', () => {}) // a stubborn peer: it never ends its side
  s.on('error', () => {})
  t.equal(l.open(), 1)
  await settle(() => l.open(), 300, 5000)
  t.equal(l.open(), 0, 'the server released the connection')
  t.same(l.closed, ['idle'])
  s.destroy()
})

t.test('the in-flight cap holds within one chunk', async (t) => {
  // Before: one write of 1,000 pipelined queries sent 799 upstream at once.
  let inFlight = 0
  let most = 0
  const waiting: Array<() => void> = []
  const chain: Next = (q) => {
    most = Math.max(most, ++inFlight)
    return new Promise<Reply>((r) => waiting.push(() => (inFlight--, r(answer(40)(q) as Reply))))
  }
  const l = await listen(t, chain, { maxInFlightPerConnection: 10 })
  const s = await dial(l.port)
  let replies = 0
  let buf = Buffer.alloc(0)
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d])
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      replies++
      buf = buf.subarray(2 + buf.readUInt16BE(0))
    }
  })
  s.write(Buffer.concat(Array.from({ length: 1000 }, () => QUERY)))
  await sleep(200)
  t.equal(waiting.length, 10, 'ten queries handed on, the rest wait in the reader')
  while (replies < 1000) {
    for (const release of waiting.splice(0)) release()
    await sleep(5)
  }
  t.equal(most, 10, 'never more than ten in flight')
  s.destroy()
})

t.test('connections are capped per client address; access is checked at accept', async (t) => {
  const l = await listen(t, answer(40), { maxConnectionsPerClient: 3, allowed: (a) => a !== '127.0.0.3' })
  const mine = await Promise.all(Array.from({ length: 5 }, () => dial(l.port)))
  await sleep(100)
  const alive = mine.filter((s) => !s.destroyed && s.readable && !s.readableEnded)
  t.equal(l.open(), 3, 'three from 127.0.0.1')
  const other = await dial(l.port, { localAddress: '127.0.0.2' })
  await sleep(50)
  t.equal(l.open(), 4, 'another address still gets in')
  const outsider = await dial(l.port, { localAddress: '127.0.0.3' })
  const cut = await new Promise<boolean>((r) => {
    outsider.on('close', () => r(true))
    outsider.on('error', () => {})
    setTimeout(() => r(false), 2000)
  })
  t.ok(cut, 'an address outside access.allow is cut before it sends anything')
  t.same([...l.closed].sort(), ['access', 'per-client', 'per-client'])
  t.ok(alive.length <= 5)
  for (const s of [...mine, other]) s.destroy()
  await sleep(50)
  t.equal(l.open(), 0)
})

t.test('a frame arriving one byte per chunk is reassembled without re-concatenation', async (t) => {
  const l = await listen(t, answer(40))
  const s = await dial(l.port)
  s.setNoDelay(true)
  const padded = encodeQuery({ name: 'pad.example', id: 2 })
  const big = frame(Buffer.concat([padded, Buffer.alloc(4000 - padded.length)]))
  let concatenated = 0
  const orig = Buffer.concat
  Buffer.concat = ((list: readonly Uint8Array[], len?: number) => {
    const out = orig(list, len)
    concatenated += out.length
    return out
  }) as typeof Buffer.concat
  t.teardown(() => void (Buffer.concat = orig))
  const answered = new Promise<void>((r) => s.once('data', () => r()))
  for (let i = 0; i < big.length; i++) {
    s.write(big.subarray(i, i + 1))
    if (i % 8 === 0) await new Promise((r) => setImmediate(r))
  }
  await answered
  Buffer.concat = orig
  t.ok(concatenated < 2 * big.length, `${concatenated} bytes concatenated for a ${big.length}-byte frame`)
  s.destroy()
})
