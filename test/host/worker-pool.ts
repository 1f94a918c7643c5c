/**
 * The primary's worker pool with real forked processes that misbehave on
 * purpose (test/fixtures/fake-cluster-worker.mjs): a worker that refuses
 * accepted lists is replaced and its replacement starts on the host's
 * version; a worker that comes up on an old version is brought up to date;
 * a status request nobody answers times out and leaves no waiter behind; a
 * start failure or a crash loop ends the service with one line.
 */
import t from 'tap'
import cluster from 'node:cluster'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import type { SnapshotData } from '../../src/lists/snapshot-data.js'
import { NO_WILDCARDS } from '../../src/lists/label-wildcards.js'
import { WorkerPool } from '../../src/host/worker-pool.js'
import { until } from '../fixtures/built-cli.js'

// Plain node for the fake (no test-runner hooks): it starts in tens of milliseconds.
cluster.setupPrimary({ exec: fileURLToPath(new URL('../fixtures/fake-cluster-worker.mjs', import.meta.url)), execArgv: [] })
const lists = (version: string): SnapshotData => ({
  version,
  categories: [],
  allow: { nodes: new Int32Array(2), chars: new Uint8Array(1), table: new Int32Array(4), size: 0, nodeCount: 1, wildcards: NO_WILDCARDS },
  exemptions: [],
  loadedAt: 0,
  committedAt: null,
  problems: [],
  dir: '/lists',
})

function makePool(count: number, mode: string, versions: { current: string }) {
  process.env.FAKE_WORKER_MODE = mode
  const fatal: string[] = []
  const pool = new WorkerPool(count, pino({ level: 'silent' }), {
    secret: '00',
    current: () => ({ version: versions.current, data: () => lists(versions.current), servingLastGood: false }),
    fatal: (line) => fatal.push(line),
  })
  return { pool, fatal }
}

t.test('accepted lists reach every worker, each acknowledging its version', async (t) => {
  const v = { current: 'v1' }
  const { pool } = makePool(2, 'ok', v)
  t.teardown(() => pool.shutdown(100))
  await pool.start()
  t.ok(pool.allOn('v1') && pool.alive())
  v.current = 'v2'
  t.notOk(pool.allOn('v2'), 'not ready while versions differ')
  const acks = await pool.applyLists('test', 'v2', lists('v2'))
  t.same(acks.map((a) => [a.ok, a.version]), [[true, 'v2'], [true, 'v2']])
  t.ok(pool.allOn('v2'))
  t.same((await pool.status()).map((s) => s.listVersion), ['v2', 'v2'])
  t.same(pool.versions('v2').map((w) => w.ok), [true, true])
})

t.test('a worker that cannot take accepted lists is replaced by one on the host version', async (t) => {
  const v = { current: 'v1' }
  const { pool } = makePool(2, 'refuse', v)
  t.teardown(() => pool.shutdown(100))
  await pool.start()
  const before = (await pool.status()).map((s) => s.pid)
  v.current = 'v2'
  const acks = await pool.applyLists('test', 'v2', lists('v2'))
  t.same(acks.map((a) => [a.ok, a.problems]), [[false, ['refused by the fake']], [false, ['refused by the fake']]])
  t.notOk(pool.allOn('v2'))
  t.ok(await until(() => pool.allOn('v2')), 'replacements serve v2')
  const after = (await pool.status()).map((s) => s.pid)
  t.notOk(after.some((pid) => before.includes(pid)), 'new processes')
})

t.test('a worker that starts on an old version is brought to the current one', async (t) => {
  const { pool } = makePool(1, 'starts-stale', { current: 'v2' })
  t.teardown(() => pool.shutdown(100))
  await pool.start()
  t.ok(await until(() => pool.allOn('v2')))
})

t.test('a status request nobody answers times out and is forgotten', async (t) => {
  const { pool } = makePool(1, 'mute-status', { current: 'v1' })
  t.teardown(() => pool.shutdown(100))
  await pool.start()
  t.match(await pool.status(), [{ listVersion: 'no answer', inFlight: -1 }])
  t.equal((pool as unknown as { statusRequests: { size: number } }).statusRequests.size, 0, 'no waiter left behind')
})

t.test('a worker that cannot start ends the start with its one line', async (t) => {
  const { pool } = makePool(2, 'fail-start', { current: 'v1' })
  await t.rejects(pool.start(), { message: 'listen.dns: cannot listen on 127.0.0.1:1: fake (EACCES)' })
  t.notOk(pool.alive(), '/healthz: not alive')
  t.ok(await until(() => Object.keys(cluster.workers ?? {}).length === 0), 'no worker left running')
})

t.test('workers that keep dying: not alive, and the service ends', async (t) => {
  const { pool } = makePool(1, 'die', { current: 'v1' })
  await t.rejects(pool.start(), { message: /^every worker died \(11 restarts in a minute\)/ })
  t.notOk(pool.alive())
})
