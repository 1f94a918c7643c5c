import t from 'tap'
import { getHeapSpaceStatistics } from 'node:v8'
import { PerformanceObserver } from 'node:perf_hooks'
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import { DomainTrie } from '../../src/lists/domain-trie.js'
import { fixedSuffixStart } from '../../src/lists/label-wildcards.js'
import { PolicySnapshot } from '../../src/lists/policy-snapshot.js'
import { IpRangeSet } from '../../src/lists/ip-ranges.js'
import { snapshotFromData, snapshotToData } from '../../src/lists/snapshot-data.js'

const PATTERN = 'p16-tiktok-*.ibyteimg.com'

/** What match() found, as the entry text (null for no match). */
const entry = (trie: DomainTrie, name: string): string | null => {
  const start = trie.match(name)
  return start < 0 ? null : trie.entryAt(name, start)
}

t.test('an inner-label wildcard matches within its label, and the names below', async (t) => {
  const trie = DomainTrie.build([PATTERN, 'tiktok.com'])
  const cases: Array<[string, string | null]> = [
    ['p16-tiktok-va.ibyteimg.com', PATTERN],
    ['p16-tiktok-sg.ibyteimg.com', PATTERN],
    ['p16-tiktok-.ibyteimg.com', PATTERN], // "*" may match nothing
    ['img.p16-tiktok-va.ibyteimg.com', PATTERN], // below a match, as for plain entries
    ['a.b.p16-tiktok-va.ibyteimg.com', PATTERN],
    ['p16-tiktok-*.ibyteimg.com', PATTERN], // a literal "*" label is matched too (fail closed)
    ['p16-tiktokva.example', null],
    ['ibyteimg.com', null],
    ['p16-tiktok.ibyteimg.com', null],
    ['xp16-tiktok-va.ibyteimg.com', null], // the label must start with the fixed text
    ['p16-tiktok-va.x.ibyteimg.com', null], // "*" never spans a dot
    ['p16-tiktok-va.ibyteimg.com.evil', null],
    ['p16-tiktok-va.ibyteimg.co', null],
    ['www.tiktok.com', 'tiktok.com'],
    ['com', null],
    ['', null],
  ]
  for (const [name, expected] of cases) t.equal(entry(trie, name), expected, `match(${JSON.stringify(name)})`)
  t.equal(trie.size, 2)
  t.equal(trie.nodeCount, 3, 'com, ibyteimg, tiktok: the pattern adds no nodes of its own')
  t.ok(trie.has(PATTERN), 'has() is true for the pattern as written')
  t.notOk(trie.has('p16-tiktok-va.ibyteimg.com'), 'has() is exact: a name the pattern matches is not an entry')
  t.equal(trie.entryAt('www.tiktok.com', 4), 'tiktok.com', 'entryAt of a plain hit is the suffix')
})

t.test('several stars, a "*" label, and patterns of several labels', async (t) => {
  const patterns = ['*cdn*.media.example', 'v*-web.b*.example.org', 'a.*.example.net', 'x*y*z.example.com']
  const trie = DomainTrie.build(patterns)
  const cases: Array<[string, string | null]> = [
    ['cdn.media.example', patterns[0]],
    ['eu-cdn-7.media.example', patterns[0]],
    ['cd.media.example', null],
    ['v16-web.b1.example.org', patterns[1]],
    ['q.v-web.b.example.org', patterns[1]],
    ['v16-web.example.org', null], // the b* label is missing
    ['v16-webx.b1.example.org', null],
    ['v16-web.c1.example.org', null],
    ['a.anything.example.net', patterns[2]],
    ['z.a.b.example.net', patterns[2]],
    ['b.anything.example.net', null],
    ['a.example.net', null],
    ['xyz.example.com', patterns[3]],
    ['xaaybbz.example.com', patterns[3]],
    ['xzyz.example.com', patterns[3]], // backtracking: the first "*" must take "zy"... or "z" and "y*" the rest
    ['xyzq.example.com', null],
    ['xzy.example.com', null],
  ]
  for (const [name, expected] of cases) t.equal(entry(trie, name), expected, `match(${JSON.stringify(name)})`)
  t.equal(fixedSuffixStart('v*-web.b*.example.org'), 'v*-web.b*.'.length)
  t.equal(fixedSuffixStart('example.*'), -1)
  t.throws(() => DomainTrie.build(['example.co*']), { code: 'DNSVAKT_ERR_BLOCKLIST' }, 'a "*" in the last label is refused')
})

t.test('precedence and coverage between plain and wildcard entries', async (t) => {
  for (const names of [[PATTERN, 'ibyteimg.com'], ['ibyteimg.com', PATTERN], [PATTERN, 'www.ibyteimg.com', 'ibyteimg.com']]) {
    const trie = DomainTrie.build(names)
    t.equal(trie.size, 1, `${names.join(' then ')}: the parent entry covers the pattern`)
    t.equal(entry(trie, 'p16-tiktok-va.ibyteimg.com'), 'ibyteimg.com', `${names.join(' then ')}: reported as the parent`)
  }
  const deeper = DomainTrie.build(['x.p16-tiktok-va.ibyteimg.com', PATTERN])
  t.equal(entry(deeper, 'y.x.p16-tiktok-va.ibyteimg.com'), PATTERN, 'a pattern at a shorter fixed suffix wins over a longer plain entry')
  t.equal(entry(deeper, 'p16-tiktok-va.ibyteimg.com'), PATTERN)
  t.equal(deeper.size, 2)
  const twice = DomainTrie.build([PATTERN, PATTERN.toUpperCase(), `${PATTERN}.`])
  t.equal(twice.size, 1, 'duplicates after normalising count once')
  // An entry landing on an existing node makes the builder renumber its nodes: patterns must follow.
  const renumbered = DomainTrie.build(['a.b.other.com', 'b.c.other.com', 'other.com', PATTERN, 'z.ibyteimg.com', '*x.z.ibyteimg.com'])
  t.equal(entry(renumbered, 'p16-tiktok-eu.ibyteimg.com'), PATTERN, 'a pattern survives the builder compacting its nodes')
  t.equal(entry(renumbered, 'q.b.other.com'), 'other.com')
  t.equal(entry(renumbered, 'ax.z.ibyteimg.com'), 'z.ibyteimg.com', 'a pattern below a plain entry is covered by it')
  t.equal(renumbered.size, 3, 'other.com, the pattern and z.ibyteimg.com')
})

t.test('agrees with a regular-expression oracle on random patterns and names', async (t) => {
  let seed = 4242
  const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 8) / 2 ** 24
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]
  const label = (): string => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(['a', 'b', '-', '0'])).join('').replace(/^-|-$/g, 'a')
  const globLabel = (): string => pick([label(), `${label()}*`, `*${label()}`, `${label()}*${label()}`, '*', `*${label()}*`])
  const fixed = (): string => `${pick(['a', 'b', 'ab'])}.${pick(['com', 'no'])}`
  const patterns = Array.from({ length: 60 }, () => [...Array.from({ length: 1 + Math.floor(random() * 2) }, globLabel), fixed()].join('.')).filter((p) => !p.startsWith('*.'))
  const plain = Array.from({ length: 100 }, () => `${label()}.${fixed()}`)
  const toRegex = (e: string): RegExp => new RegExp(`(^|\\.)${e.replace(/\./g, '\\.').replace(/\*/g, '[^.]*')}$`)
  const all = [...patterns, ...plain]
  const oracles = all.map(toRegex)
  const trie = DomainTrie.build(all)
  let hits = 0
  let wrong = 0
  for (let i = 0; i < 20_000; i++) {
    const name = [...Array.from({ length: 1 + Math.floor(random() * 3) }, label), fixed()].join('.')
    const expected = oracles.some((r) => r.test(name))
    const start = trie.match(name)
    const found = start >= 0 && toRegex(trie.entryAt(name, start)).test(name)
    if (expected) hits++
    if (found !== expected || (start >= 0) !== expected) {
      if (wrong++ < 5) t.fail(`${name}: expected ${expected}, got ${start >= 0 ? trie.entryAt(name, start) : 'no match'}`)
    }
  }
  t.equal(wrong, 0, 'every name agrees with the oracle, and the reported entry matches it')
  t.ok(hits > 1_000 && hits < 19_000, `hits and misses both exercised (${hits} hits)`)
})

t.test('the wildcard data crosses a thread boundary with the rest of the snapshot', async (t) => {
  const domains = DomainTrie.build([PATTERN, 'tiktok.com'])
  const snap = new PolicySnapshot('v1', [{ name: 'tiktok', bit: 0, domains, cidrs: IpRangeSet.fromCidrs([]), files: ['tiktok.txt'] }], DomainTrie.build(['ok-*.ibyteimg.com']), [], 0, [], '/x')
  const { data, transfer } = snapshotToData(snap)
  const { port1, port2 } = new MessageChannel()
  port1.postMessage(data, transfer) // a real structured clone with the transfer list, as load-lists-in-worker does
  const copy = snapshotFromData(receiveMessageOnPort(port2)!.message)
  port1.close()
  const hit = copy.matchName('p16-tiktok-va.ibyteimg.com', 1)
  t.ok(hit >= 0, 'the copy blocks by the pattern')
  t.equal(copy.categories[0].domains.entryAt('p16-tiktok-va.ibyteimg.com', hit >>> 5), PATTERN, 'and reports the pattern')
  t.ok(copy.allowed('ok-1.ibyteimg.com'), 'allow-list patterns cross too')
  t.equal(copy.categories[0].domains.size, 2)
})

t.test('match allocates nothing when it passes wildcard nodes', async (t) => {
  const names = Array.from({ length: 2_000 }, (_, i) => `p${i}-*.cdn${i % 50}.example`)
  const trie = DomainTrie.build(names)
  const flat = (s: string): string => Buffer.from(s).toString('latin1')
  const hits = names.map((_, i) => flat(`x.p${i}-edge.cdn${i % 50}.example`))
  const misses = names.map((_, i) => flat(`q${i}-edge.cdn${i % 50}.example`)) // passes a flagged node, no pattern fits
  const newSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0
  let collections = 0
  const observer = new PerformanceObserver((list) => { collections += list.getEntries().length })
  observer.observe({ entryTypes: ['gc'] })
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20))
  for (const [kind, queries, want] of [['hits', hits, true], ['misses', misses, false]] as const) {
    let found = 0
    for (let r = 0; r < 5; r++) for (const q of queries) if (trie.match(q) >= 0) found++
    await settle()
    const collectionsBefore = collections
    const before = newSpace()
    for (let r = 0; r < 20; r++) for (let i = 0; i < queries.length; i++) if (trie.match(queries[i]) >= 0) found++
    const grown = newSpace() - before
    await settle()
    t.equal(collections - collectionsBefore, 0, `${kind}: no garbage collection during 40,000 lookups`)
    t.ok(grown < 64 * 1024, `${kind}: young generation grew ${grown} bytes over 40,000 lookups`)
    t.equal(found, want ? 25 * queries.length : 0, `${kind}: the lookups really ran`)
  }
  observer.disconnect()
})
