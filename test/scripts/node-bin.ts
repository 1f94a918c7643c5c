/**
 * scripts/node-bin.sh, which CI and the benchmark use to run on Node.js 24:
 * it reuses a fresh install from its cache without touching the network,
 * and refuses what is not a major version. (Installing from the npm registry
 * itself is exercised by .ci/run, not here: tests stay on loopback.)
 */
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../fixtures/built-cli.js'

const SCRIPT = join(ROOT, 'scripts', 'node-bin.sh')

/** A cache holding a stand-in `node` that reports `major` and counts its runs. */
function fakeCache(t: Test, major: string): { dir: string; bin: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-nodecache-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const bin = join(dir, `node-${major}`, 'node_modules', 'node', 'bin')
  mkdirSync(bin, { recursive: true })
  writeFileSync(join(bin, 'node'), `#!/bin/sh\necho "${major}"\n`)
  chmodSync(join(bin, 'node'), 0o755)
  writeFileSync(join(dir, `node-${major}`, '.installed'), '')
  return { dir, bin }
}

// npm on PATH is replaced by one that fails loudly: a cache hit must not install anything.
function run(t: Test, args: string[], cache: string) {
  const fakeBin = mkdtempSync(join(tmpdir(), 'dnsvakt-nonpm-'))
  t.teardown(() => rmSync(fakeBin, { recursive: true, force: true }))
  writeFileSync(join(fakeBin, 'npm'), '#!/bin/sh\necho "npm called" >&2\nexit 7\n')
  chmodSync(join(fakeBin, 'npm'), 0o755)
  return spawnSync('/bin/bash', [SCRIPT, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}`, DNSVAKT_NODE_CACHE: cache },
  })
}

t.test('a fresh cached install is reused: prints its bin directory, runs no npm', async (t) => {
  const { dir, bin } = fakeCache(t, '24')
  const r = run(t, ['24'], dir)
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, `${bin}\n`, 'stdout is only the directory')
  t.notMatch(r.stderr, /npm called/)
})

t.test('a cached install of another major line is not taken for this one', async (t) => {
  const { dir } = fakeCache(t, '22')
  const r = run(t, ['24'], dir)
  t.equal(r.status, 1)
  t.match(r.stderr, /installing Node\.js 24/)
  t.match(r.stderr, /npm install node@24 failed/)
  t.equal(r.stdout, '')
})

t.test('only a major version is accepted', async (t) => {
  const r = run(t, ['24; rm -rf /'], tmpdir())
  t.equal(r.status, 1)
  t.match(r.stderr, /major version expected/)
})
