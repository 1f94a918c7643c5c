import t from 'tap'
import { Writable } from 'node:stream'
import { ClientPseudonymizer, type AddressMode } from '../../src/observability/client-pseudonym.js'
import { execFileSync } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, readSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { droppedLogLines } from '../../src/observability/log-drops.js'
import { DecisionLog, boundedDestination, createLogger, type QueryFacts } from '../../src/observability/logger.js'

const NOW = Date.UTC(2024, 2, 10, 11, 0, 0)

/** An in-memory pino destination: every written line, parsed. */
const memory = () => {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>)
      done()
    },
  })
  return { lines, stream }
}

const setup = (opts: { mode?: AddressMode; queries?: boolean; level?: string } = {}) => {
  const { lines, stream } = memory()
  const logger = createLogger({ level: opts.level ?? 'info', destination: stream, now: () => NOW })
  const pseudonymizer = new ClientPseudonymizer({ mode: opts.mode, secret: 'a-test-secret-of-32-bytes-length', now: () => NOW })
  return { lines, log: new DecisionLog(logger, { pseudonymizer, queries: opts.queries }), pseudonymizer }
}

const q: QueryFacts = { name: 'www.tiktok.com', qtype: 65, transport: 'udp', clientAddress: '192.0.2.77', group: 'ansatte' }
const block = { category: 'tiktok', caughtBy: 'name' as const, entry: 'tiktok.com' }

t.test('createLogger writes JSON lines with an ISO time from the injected clock', async (t) => {
  const { lines, stream } = memory()
  const logger = createLogger({ level: 'warn', destination: stream, now: () => NOW })
  logger.info('not written')
  logger.warn({ code: 'DNSVAKT_ERR_BLOCKLIST' }, 'reload failed')
  t.equal(lines.length, 1)
  t.match(lines[0], { level: 40, time: '2024-03-10T11:00:00.000Z', code: 'DNSVAKT_ERR_BLOCKLIST', msg: 'reload failed' })
  t.ok(createLogger({ level: 'info' }).isLevelEnabled('info'), 'stdout by default')
})

t.test('createLogger: base fields replace pid and hostname (the production process logs)', async (t) => {
  const { lines, stream } = memory()
  createLogger({ level: 'info', destination: stream, now: () => NOW, base: { service: 'dnsvakt', role: 'primary' } }).info('up')
  t.match(lines[0], { service: 'dnsvakt', role: 'primary', time: '2024-03-10T11:00:00.000Z', msg: 'up' })
  t.notOk('pid' in lines[0] || 'hostname' in lines[0], 'no pid or hostname when base is given')
  const plain = memory()
  createLogger({ level: 'info', destination: plain.stream }).info('x')
  t.ok('pid' in plain.lines[0], "pino's default base without it")
})

t.test('blocked events: info, event field, query name, truncated client by default', async (t) => {
  const { lines, log } = setup()
  log.logBlocked(q, block, 'abc1234')
  t.equal(lines.length, 1)
  t.match(lines[0], {
    level: 30, event: 'blocked', name: 'www.tiktok.com', qtype: 'HTTPS', transport: 'udp', client: '192.0.2.0/24',
    group: 'ansatte', category: 'tiktok', caughtBy: 'name', entry: 'tiktok.com', listVersion: 'abc1234',
  })
  t.notMatch(JSON.stringify(lines), /192\.0\.2\.77/, 'the raw address appears nowhere')
})

t.test('client field per mode; the raw address only in full mode', async (t) => {
  const hash = setup({ mode: 'hash' })
  hash.log.logBlocked(q, block, 'v')
  t.equal(hash.lines[0]?.client, hash.pseudonymizer.pseudonymForCounting(q.clientAddress))
  t.notMatch(JSON.stringify(hash.lines), /192\.0\.2/)
  const omit = setup({ mode: 'omit' })
  omit.log.logBlocked(q, block, 'v')
  t.notOk('client' in (omit.lines[0] ?? {}), 'no client field')
  t.notMatch(JSON.stringify(omit.lines), /192\.0\.2/)
  const full = setup({ mode: 'full' })
  full.log.logBlocked(q, block, 'v')
  t.equal(full.lines[0]?.client, '192.0.2.77')
})

t.test('exempted events: the exemption id only where the address itself is logged (mode full)', async (t) => {
  const full = setup({ mode: 'full' })
  full.log.logExempted({ ...q, qtype: 4242 }, { categories: ['tiktok', 'telegram'], exemptionId: 'ex-17' }, 'v2')
  t.match(full.lines[0], { event: 'exempted', qtype: 'TYPE4242', categories: ['tiktok', 'telegram'], exemptionId: 'ex-17', client: '192.0.2.77', listVersion: 'v2' })
  // The id names one device as surely as its address: a truncated or hashed address with it would identify the device.
  for (const mode of ['truncate', 'hash', 'omit'] as const) {
    const { lines, log } = setup({ mode })
    log.logExempted({ ...q, qtype: 4242 }, { categories: ['tiktok', 'telegram'], exemptionId: 'ex-17' }, 'v2')
    t.match(lines[0], { event: 'exempted', categories: ['tiktok', 'telegram'], listVersion: 'v2' }, mode)
    t.notOk('exemptionId' in lines[0]!, `${mode}: no exemption id`)
    t.notMatch(JSON.stringify(lines), /ex-17/, `${mode}: the id appears nowhere`)
  }
  const truncated = setup()
  truncated.log.logExempted(q, { categories: ['tiktok'], exemptionId: 'ex-17' }, 'v2')
  t.equal(truncated.lines[0]?.client, '192.0.2.0/24', 'truncate is the default')
})

t.test('boundedDestination: a destination nobody reads holds at most maxBytes; the rest is dropped and counted', async (t) => {
  // A FIFO opened read-write has no reader that ever reads: its 64 KiB kernel buffer fills and writes get EAGAIN, as on a stuck stdout pipe.
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-log-'))
  const fifo = join(dir, 'stdout')
  execFileSync('mkfifo', [fifo])
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK)
  const dest = boundedDestination(fd, 32 * 1024)
  const logger = createLogger({ level: 'info', destination: dest, now: () => NOW })
  const before = droppedLogLines()
  const line = 'x'.repeat(200)
  for (let i = 0; i < 5000; i++) logger.info({ event: 'blocked', i }, line)
  const dropped = droppedLogLines() - before
  // ~1 MiB written: 64 KiB fit in the pipe, 32 KiB may wait, the rest must be dropped and counted.
  t.ok(dropped > 4000, `${dropped} of 5000 lines dropped`)
  t.ok(dropped < 5000, 'what fits is kept')
  // Now read everything that ever comes out (the writer retries every 100 ms), until 600 ms bring nothing more.
  const readBack = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
  const buf = Buffer.alloc(4 * 1024 * 1024)
  let read = 0
  for (let quiet = 0; quiet < 600; quiet += 50) {
    await new Promise((r) => setTimeout(r, 50))
    try {
      const n = readSync(readBack, buf, read, buf.length - read, null)
      if (n > 0) quiet = 0
      read += n
    } catch {
      // EAGAIN: nothing there yet
    }
  }
  const lines = buf.subarray(0, read).toString('utf8').split('\n').filter(Boolean).length
  t.equal(lines + dropped, 5000, `every line written (${lines}) or counted as dropped (${dropped})`)
  t.ok(read <= 64 * 1024 + 33 * 1024, `at most the pipe and the queue came out: ${read} bytes (unbounded: ~1.3 MB)`)
  closeSync(readBack)
  closeSync(fd)
})

t.test('logQuery writes nothing unless log.queries is on', async (t) => {
  const off = setup()
  t.equal(off.log.queriesEnabled, false)
  let reads = 0
  const spy = new Proxy(q, { get: (target, key) => { reads++; return Reflect.get(target, key) } })
  off.log.logQuery(spy, 'cached', 0.00004)
  t.equal(off.lines.length, 0)
  t.equal(reads, 0, 'returned before touching the query')
  const on = setup({ queries: true })
  on.log.logQuery(q, 'forwarded', 0.0123456)
  t.match(on.lines[0], { event: 'query', name: 'www.tiktok.com', result: 'forwarded', durationMs: 12.346, client: '192.0.2.0/24' })
})

t.test('nothing is built when info is disabled', async (t) => {
  const { lines, log } = setup({ level: 'warn', queries: true })
  let reads = 0
  const spy = new Proxy(q, { get: (target, key) => { reads++; return Reflect.get(target, key) } })
  log.logBlocked(spy, block, 'v')
  log.logExempted(spy, { categories: ['tiktok'], exemptionId: 'x' }, 'v')
  log.logQuery(spy, 'blocked', 0.001)
  t.equal(lines.length, 0)
  t.equal(reads, 0)
})
