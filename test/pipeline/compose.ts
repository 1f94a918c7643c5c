import t from 'tap'
import { compose } from '../../src/pipeline/compose.js'
import type { Next, Reply, Stage, StageName } from '../../src/pipeline/types.js'
import type { Query } from '../../src/pipeline/query.js'
import { makeQuery } from '../fixtures/dns-wire.js'

const answered = (source: Reply['source'] = 'forwarded'): Reply => ({ kind: 'answer', wire: Buffer.alloc(12), source })

/** A stage that records entering and leaving, then passes the query on. */
const passing = (name: StageName, log: string[]): Stage => ({
  name,
  handle(q: Query, next: Next) {
    log.push(`>${name}`)
    const r = next(q)
    if (r instanceof Promise) return r.then((x) => (log.push(`<${name}`), x))
    log.push(`<${name}`)
    return r
  },
})

const terminal = (log: string[], reply: Reply = answered()): Stage => ({
  name: 'forward',
  handle() {
    log.push('=forward')
    return reply
  },
})

const asyncTerminal = (log: string[], reply: Reply = answered()): Stage => ({
  name: 'forward',
  async handle() {
    await new Promise((resolve) => setImmediate(resolve))
    log.push('=forward')
    return reply
  },
})

const isThenable = (x: unknown): boolean => typeof (x as { then?: unknown })?.then === 'function'

t.test('a synchronous chain returns a plain Reply, not a Promise', async (t) => {
  for (const depth of [0, 1, 3, 6]) {
    const log: string[] = []
    const names: StageName[] = ['acl', 'rate-limit', 'client-group', 'policy', 'inspect-answer', 'cache']
    const reply = answered('cached')
    const chain = compose([...names.slice(0, depth).map((n) => passing(n, log)), terminal(log, reply)])
    const r = chain(makeQuery({ name: 'example.com' }))
    t.notOk(isThenable(r), `${depth} stages above the terminal: not a thenable`)
    t.equal(r, reply, `${depth}: the terminal's reply object comes back unchanged`)
  }
})

t.test('stages run in the order given, and unwind in reverse', async (t) => {
  const log: string[] = []
  const chain = compose([passing('acl', log), passing('policy', log), passing('cache', log), terminal(log)])
  chain(makeQuery({ name: 'example.com' }))
  t.same(log, ['>acl', '>policy', '>cache', '=forward', '<cache', '<policy', '<acl'])
})

t.test('each stage receives the same query object', async (t) => {
  const seen: Query[] = []
  const spy = (name: StageName): Stage => ({ name, handle: (q, next) => (seen.push(q), next(q)) })
  const q = makeQuery({ name: 'example.com' })
  compose([spy('acl'), spy('policy'), { name: 'forward', handle: (x) => (seen.push(x), answered()) }])(q)
  t.equal(seen.length, 3)
  t.ok(seen.every((x) => x === q))
})

t.test('a stage that answers stops the chain', async (t) => {
  const log: string[] = []
  const blocked = answered('blocked')
  const blocker: Stage = { name: 'policy', handle: () => (log.push('=policy'), blocked) }
  const chain = compose([passing('acl', log), blocker, passing('cache', log), terminal(log)])
  const r = chain(makeQuery({ name: 'tiktok.com' }))
  t.equal(r, blocked)
  t.same(log, ['>acl', '=policy', '<acl'], 'nothing below policy ran')
})

t.test('an asynchronous terminal makes the chain return a Promise that stages above still see', async (t) => {
  const log: string[] = []
  const reply = answered()
  const chain = compose([passing('acl', log), passing('cache', log), asyncTerminal(log, reply)])
  const r = chain(makeQuery({ name: 'example.com' }))
  t.ok(r instanceof Promise, 'a Promise')
  t.same(log, ['>acl', '>cache'], 'nothing unwound yet')
  t.equal(await r, reply)
  t.same(log, ['>acl', '>cache', '=forward', '<cache', '<acl'])
})

t.test('the chain is built once and reusable', async (t) => {
  let calls = 0
  const chain = compose([{ name: 'forward', handle: () => (calls++, answered()) }])
  for (let i = 0; i < 5; i++) chain(makeQuery({ id: i, name: 'example.com' }))
  t.equal(calls, 5)
})

t.test('a chain whose last stage calls next throws, naming the query', async (t) => {
  t.throws(() => compose([])(makeQuery({ name: 'empty.example' })), /empty\.example/)
  const log: string[] = []
  t.throws(() => compose([passing('acl', log), passing('policy', log)])(makeQuery({ name: 'x.example' })), /x\.example/)
})

t.test('a chain longer than the per-position links still runs every stage in order', async (t) => {
  const log: string[] = []
  const stages = Array.from({ length: 12 }, (_, i) => passing(`s${i}` as 'acl', log))
  const reply = answered()
  const chain = compose([...stages, { name: 'forward', handle: () => reply }])
  t.equal(chain(makeQuery({ name: 'long.example' })), reply)
  t.same(log.filter((l) => l.startsWith('>')), stages.map((_, i) => `>s${i}`))
})
