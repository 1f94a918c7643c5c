/**
 * Lists through git, without restart: a bare repository on disk is the
 * remote; the gateway serves from a clone of it. A reviewed commit pushed to
 * the remote and pulled into the clone is picked up by the watcher; a broken
 * list is refused and the last good one keeps serving.
 */
import t from 'tap'
import { join } from 'node:path'
import { ListWatcher } from '../../src/list-sync/watch-lists.js'
import pino from 'pino'
import { Registry } from 'prom-client'
import { validate } from '../../src/config/load-config.js'
import { createGateway } from '../../src/gateway.js'
import { loadLists } from '../../src/lists/load-lists.js'
import { udpAsk } from '../fixtures/dns-client.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { createListRepo, git } from '../fixtures/git-repo.js'

t.test('a commit pushed to the list repository is served without restart', async (t) => {
  const repo = createListRepo()
  t.teardown(() => repo.remove())
  repo.commit({ 'tiktok.txt': '# TikTok\ntiktok.com\n', 'telegram.txt': 'telegram.org\n' }, 'initial lists')
  const served = repo.clone(join(repo.root, 'served'))
  /** A reviewed change: commit tiktok.txt in the editor's clone, push, deploy (pull) into the served clone. */
  const publish = (text: string, message: string) => {
    repo.commit({ 'tiktok.txt': text }, message)
    git(served, 'pull', '-q', '--ff-only')
  }

  const first = await startServed(served)
  t.teardown(() => first.close())
  const commit1 = git(served, 'rev-parse', 'HEAD')
  t.equal(first.gw.store.snapshot.version, commit1, 'list version is the git commit')
  const committedAt = Number(git(served, 'log', '-1', '--format=%ct')) * 1000
  t.equal(first.gw.store.snapshot.committedAt, committedAt, 'and carries the commit time')
  // The staleness alert reads the commit time: set from the commit, not from the (re)start.
  t.match(await first.gw.metrics.registry.metrics(), new RegExp(`dnsvakt_lists_commit_timestamp_seconds ${committedAt / 1000}\\n`))
  t.equal((await udpAsk(first.port, { name: 'newly-banned.example' })).rcode, 'NOERROR')

  const reloads: boolean[] = []
  const watcher = new ListWatcher(served, join(served, 'exemptions.yaml'), 60_000, () => {
    void first.gw.reload('file-change').then((r) => reloads.push(r.ok))
  })
  await watcher.start()
  t.teardown(() => watcher.stop())

  // A reviewed change: add a name, push, deploy (pull) into the served clone.
  publish('# TikTok\ntiktok.com\nnewly-banned.example\n', 'block newly-banned.example')
  await settle(watcher, reloads, 1)
  const commit2 = git(served, 'rev-parse', 'HEAD')
  t.equal(first.gw.store.snapshot.version, commit2, 'new commit is live')
  t.equal((await udpAsk(first.port, { name: 'newly-banned.example' })).rcode, 'NXDOMAIN')
  t.match(await first.gw.metrics.registry.metrics(), new RegExp(`dnsvakt_lists_info\\{version="${commit2}"\\} 1`))

  // A broken list: refused, the old one keeps serving, the failure is counted.
  publish('# TikTok\ntiktok.com\nnot a valid name!\n', 'oops')
  await settle(watcher, reloads, 2)
  t.equal(reloads[1], false, 'the broken commit was refused')
  t.equal(first.gw.store.snapshot.version, commit2, 'the last good commit keeps serving')
  t.equal((await udpAsk(first.port, { name: 'newly-banned.example' })).rcode, 'NXDOMAIN')
  t.match(await first.gw.metrics.registry.metrics(), /dnsvakt_lists_reloads_total\{result="failure"\} 1/)

  // An emptied list is refused too.
  publish('', 'empty')
  await settle(watcher, reloads, 3)
  t.equal(reloads[2], false)
  t.equal((await udpAsk(first.port, { name: 'tiktok.com' })).rcode, 'NXDOMAIN')

  // The next good commit is picked up.
  publish('tiktok.com\n', 'fix')
  await settle(watcher, reloads, 4)
  t.equal(reloads[3], true)
  t.equal((await udpAsk(first.port, { name: 'newly-banned.example' })).rcode, 'NOERROR', 'unblocked by the reviewed fix')
})

t.test('a restart never enforces less than the last good lists', async (t) => {
  const repo = createListRepo()
  t.teardown(() => repo.remove())
  repo.commit({ 'tiktok.txt': 'tiktok.com\n', 'telegram.txt': 'telegram.org\nt.me\n', 'telegram.cidrs.txt': '149.154.160.0/20\n' }, 'lists')
  const served = repo.clone(join(repo.root, 'served'))
  const blocked = async (port: number, name: string) => (await udpAsk(port, { name })).rcode === 'NXDOMAIN'

  const a = await startServed(served)
  t.ok(await blocked(a.port, 'telegram.org'))
  // A bad commit empties telegram.txt; the clone checks it out anyway; the reload is refused.
  repo.commit({ 'telegram.txt': '' }, 'oops: emptied telegram.txt')
  git(served, 'pull', '-q', '--ff-only')
  t.match(await a.gw.reload('file-change'), { ok: false, problems: [/telegram.* shrank to no names/] })
  t.match(a.logs.find((l) => l.action === 'lists-reload-refused'), { event: 'audit', from: a.gw.store.snapshot.version, reasons: [/telegram/] }, 'an audit line')
  await a.close()

  // Restart on the broken folder: the last good lists are served, and it says so.
  const b = await startServed(served)
  t.ok(await blocked(b.port, 'telegram.org'), 'telegram.org is still blocked after the restart')
  t.ok(await blocked(b.port, 'www.t.me'))
  t.match(b.gw.store.servingLastGood, { reasons: [/category "telegram" shrank to no names/] })
  t.match(b.gw.store.status(), { servingLastGood: { version: b.gw.store.snapshot.version } }, '/v1/status field')
  t.match(await b.gw.metrics.registry.metrics(), /dnsvakt_lists_serving_last_good 1\n/)
  t.match(b.logs.find((l) => l.event === 'lists-serving-last-good'), { level: 50, reasons: [/telegram/] }, 'an error in the log')
  t.match(b.logs.find((l) => l.action === 'lists-start-last-good'), { event: 'audit' })
  await b.close()

  // The Telegram files deleted altogether: before, the gateway exited (DNS down); now it serves the last good lists.
  repo.commit({ 'telegram.txt': null, 'telegram.cidrs.txt': null }, 'oops: deleted telegram')
  git(served, 'pull', '-q', '--ff-only')
  const c = await startServed(served)
  t.teardown(() => c.close())
  t.ok(await blocked(c.port, 'telegram.org'), 'still blocked with the files deleted')
  t.match(c.gw.store.servingLastGood, { reasons: [/category "telegram" disappeared/] })

  // A good commit ends it.
  repo.commit({ 'telegram.txt': 'telegram.org\nt.me\ntelegram.me\n', 'telegram.cidrs.txt': '149.154.160.0/20\n' }, 'fixed')
  git(served, 'pull', '-q', '--ff-only')
  t.match(await c.gw.reload('file-change'), { ok: true })
  t.equal(c.gw.store.servingLastGood, null)
  t.ok(await blocked(c.port, 'telegram.me'))
  t.match(await c.gw.metrics.registry.metrics(), /dnsvakt_lists_serving_last_good 0\n/)
  t.match(c.logs.find((l) => l.action === 'lists-reloaded'), { event: 'audit', to: c.gw.store.snapshot.version, changed: true })
})

t.test('with no last good state, an enforced category that is missing or empty stops the start', async (t) => {
  const repo = createListRepo()
  t.teardown(() => repo.remove())
  repo.commit({ 'tiktok.txt': 'tiktok.com\n', 'telegram.txt': '# emptied\n' }, 'lists')
  const served = repo.clone(join(repo.root, 'served'))
  await t.rejects(startServed(served, join(repo.root, 'state')), { code: 'DNSVAKT_ERR_BLOCKLIST', message: /category "telegram" is enforced by a group but telegram.txt hold no entries/ })
  repo.commit({ 'telegram.txt': null }, 'deleted')
  git(served, 'pull', '-q', '--ff-only')
  await t.rejects(startServed(served, join(repo.root, 'state')), { code: 'DNSVAKT_ERR_BLOCKLIST', message: /category "telegram" is enforced by a group but has no list file/ })
})

/** Starts a gateway whose list folder is `dir` itself (the served clone); its log lines are kept. */
async function startServed(dir: string, stateDir?: string) {
  const up = await startFakeUpstream()
  const cfg = validate({ listen: { dns: ['127.0.0.1:0'], admin: '' }, upstream: { servers: [`127.0.0.1:${up.port}`] }, groups: { default: { enforce: ['tiktok', 'telegram'] } }, blocking: { stateDir } }, 'test')
  const logs: Array<Record<string, unknown>> = []
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) })
  const gw = await createGateway({ config: cfg, file: null, blocklistDir: dir, exemptionsFile: join(dir, 'exemptions.yaml') }, { logger, registry: new Registry(), listLoader: loadLists })
    .catch(async (e: unknown) => { await up.close(); throw e })
  return { gw, logs, port: gw.dns[0].port, close: async () => { await gw.close(100); await up.close() } }
}

/** Polls the watcher (twice: a change must be seen stable) until `n` reloads have finished, bounded. */
async function settle(w: ListWatcher, reloads: boolean[], n: number): Promise<void> {
  for (let i = 0; i < 50 && reloads.length < n; i++) {
    await w.poll()
    await new Promise((r) => setTimeout(r, 50))
  }
  if (reloads.length < n) throw new Error(`expected ${n} reloads, saw ${reloads.length}`)
}
