/**
 * Lists through git, without restart: a bare repository on disk is the
 * remote; the gateway serves from a clone of it. A reviewed commit pushed to
 * the remote and pulled into the clone is picked up by the watcher; a broken
 * list is refused and the last good one keeps serving.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListWatcher } from '../../src/list-sync/watch-lists.js'
import pino from 'pino'
import { Registry } from 'prom-client'
import { validate } from '../../src/config/load-config.js'
import { createGateway } from '../../src/gateway.js'
import { loadLists } from '../../src/lists/load-lists.js'
import { udpAsk } from '../fixtures/dns-client.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.test', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' }).trim()

t.test('a commit pushed to the list repository is served without restart', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dnsvakt-git-'))
  const remote = join(root, 'lists.git')
  const editor = join(root, 'editor')
  const served = join(root, 'served')
  git(root, 'init', '-q', '--bare', remote)
  git(root, 'clone', '-q', remote, editor)
  writeFileSync(join(editor, 'tiktok.txt'), '# TikTok\ntiktok.com\n')
  writeFileSync(join(editor, 'telegram.txt'), 'telegram.org\n')
  git(editor, 'add', '.')
  git(editor, 'commit', '-q', '-m', 'initial lists')
  git(editor, 'push', '-q', 'origin', 'HEAD:main')
  git(root, 'clone', '-q', '-b', 'main', remote, served)
  /** A reviewed change: commit tiktok.txt in the editor's clone, push, deploy (pull) into the served clone. */
  const publish = (text: string, message: string) => {
    writeFileSync(join(editor, 'tiktok.txt'), text)
    git(editor, 'commit', '-q', '-am', message)
    git(editor, 'push', '-q', 'origin', 'HEAD:main')
    git(served, 'pull', '-q', '--ff-only')
  }

  const first = await startServed(served)
  t.teardown(() => first.close())
  const commit1 = git(served, 'rev-parse', 'HEAD')
  t.equal(first.gw.store.snapshot.version, commit1, 'list version is the git commit')
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

/** Starts a gateway whose list folder is `dir` itself (the served clone). */
async function startServed(dir: string) {
  const up = await startFakeUpstream()
  const cfg = validate({ listen: { dns: ['127.0.0.1:0'], admin: '' }, upstream: { servers: [`127.0.0.1:${up.port}`] }, groups: { default: { enforce: ['tiktok', 'telegram'] } } }, 'test')
  const gw = await createGateway({ config: cfg, file: null, blocklistDir: dir, exemptionsFile: join(dir, 'exemptions.yaml') }, { logger: pino({ level: 'silent' }), registry: new Registry(), listLoader: loadLists })
  return { gw, port: gw.dns[0].port, close: async () => { await gw.close(100); await up.close() } }
}

/** Polls the watcher (twice: a change must be seen stable) until `n` reloads have finished, bounded. */
async function settle(w: ListWatcher, reloads: boolean[], n: number): Promise<void> {
  for (let i = 0; i < 50 && reloads.length < n; i++) {
    await w.poll()
    await new Promise((r) => setTimeout(r, 50))
  }
  if (reloads.length < n) throw new Error(`expected ${n} reloads, saw ${reloads.length}`)
}
