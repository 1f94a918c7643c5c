/**
 * The TCP frame reader shared by the client listener and the upstream
 * exchange: any chunking gives back the same messages, a caller may stop
 * taking messages and find the rest intact later, and a frame delivered one
 * byte at a time costs linear, not quadratic, work.
 */
import t from 'tap'
import { FrameReader } from '../../src/server/frame-reader.js'
import { prng } from '../fixtures/dns-wire.js'

const frame = (msg: Buffer) => Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg])

const drain = (reader: FrameReader, out: Buffer[]) => {
  for (let m = reader.next(); m !== undefined; m = reader.next()) out.push(Buffer.from(m))
}

t.test('FrameReader: any chunking gives back the same messages', async (t) => {
  const msgs = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(300, 7), Buffer.from('hello'), Buffer.alloc(0xffff, 9)]
  const stream = Buffer.concat(msgs.map(frame))
  const rnd = prng(42)
  const failed: number[] = []
  for (let round = 0; round < 200; round++) {
    const reader = new FrameReader()
    const out: Buffer[] = []
    let o = 0
    while (o < stream.length) {
      const n = round === 0 ? 1 : 1 + Math.floor(rnd() * (round % 2 ? 5 : 4000))
      reader.push(stream.subarray(o, o + n))
      drain(reader, out)
      o += n
    }
    if (out.length !== msgs.length || out.some((m, i) => !m.equals(msgs[i]))) failed.push(round)
  }
  t.same(failed, [], 'every chunking (round 0: one byte per chunk)')
})

t.test('a caller that stops taking messages finds the rest intact later', async (t) => {
  const msgs = [Buffer.alloc(0), Buffer.from('abc'), Buffer.from('defg')]
  const reader = new FrameReader()
  reader.push(Buffer.concat(msgs.map(frame)))
  t.equal(reader.next()?.length, 0, 'stops when told: one message taken')
  t.equal(reader.buffered, 2 + 3 + 2 + 4, 'the rest of the chunk is kept')
  t.same(reader.next(), Buffer.from('abc'))
  t.same(reader.next(), Buffer.from('defg'))
  t.equal(reader.next(), undefined)
  t.equal(reader.buffered, 0)
})

t.test('a message inside one chunk is a view, not a copy', async (t) => {
  const chunk = frame(Buffer.from('view'))
  const reader = new FrameReader()
  reader.push(chunk)
  const m = reader.next()!
  t.equal(m.buffer, chunk.buffer, 'same memory as the chunk')
})

t.test('a 65,535-byte frame fed one byte per chunk: linear work', async (t) => {
  // The old listener re-concatenated the partial frame on every chunk: 65,537
  // chunks cost ~2^31 byte copies. Counting copies through Buffer.prototype.copy
  // and concat makes the bound exact instead of timing it.
  const big = frame(Buffer.alloc(0xffff, 1))
  const reader = new FrameReader()
  let copied = 0
  const origCopy = Buffer.prototype.copy
  const origConcat = Buffer.concat
  Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>) {
    const n = origCopy.apply(this, args)
    copied += n
    return n
  } as Buffer['copy']
  Buffer.concat = ((list: readonly Uint8Array[], len?: number) => {
    const out = origConcat(list, len)
    copied += out.length
    return out
  }) as typeof Buffer.concat
  let got: Buffer | undefined
  try {
    for (let i = 0; i < big.length; i++) {
      reader.push(big.subarray(i, i + 1))
      got = reader.next() ?? got
    }
  } finally {
    Buffer.prototype.copy = origCopy
    Buffer.concat = origConcat
  }
  t.equal(got?.length, 0xffff)
  t.ok(copied <= 2 * big.length, `${copied} bytes copied for a ${big.length}-byte frame`)
})
