/**
 * scripts/ensure-test-tools.sh, the first step of `npm test`: it names every
 * tool the tests run, passes silently when they are all there, and otherwise
 * stops at once with one line naming what is missing and the Debian packages.
 * Run with DNSVAKT_NO_INSTALL=1 or without apt-get, so a test never installs.
 */
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../fixtures/built-cli.js'

const SCRIPT = join(ROOT, 'scripts', 'ensure-test-tools.sh')
const BASH = '/bin/bash'

/** "tool:package" entries of the TOOLS array at the top of the script. */
function listed(): Map<string, string> {
  const body = /^TOOLS=\(\n([\s\S]*?)\n\)/m.exec(readFileSync(SCRIPT, 'utf8'))?.[1] ?? ''
  return new Map([...body.matchAll(/^\s*"([^":]+):([^"]+)"/gm)].map((m) => [m[1]!, m[2]!]))
}

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e)
    return statSync(p).isDirectory() ? testFiles(p) : p.endsWith('.ts') ? [p] : []
  })
}

/** A PATH holding only stand-ins for the given tools (the script only looks them up). */
function fakePath(t: Test, tools: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-tools-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const tool of tools) {
    writeFileSync(join(dir, tool), '#!/bin/sh\nexit 0\n')
    chmodSync(join(dir, tool), 0o755)
  }
  return dir
}

const run = (env: NodeJS.ProcessEnv) => spawnSync(BASH, [SCRIPT], { env, encoding: 'utf8', timeout: 30_000 })

t.test('every tool a test runs by name is in the list, with a Debian package', async (t) => {
  const tools = listed()
  t.ok(tools.size >= 7, `${tools.size} tools listed`)
  const used = new Set<string>()
  const call = /\b(?:spawn|spawnSync|execFile|execFileSync|execFileAsync|runTool|requireTool)\(\s*'([^']+)'/g
  for (const f of testFiles(join(ROOT, 'test'))) for (const m of readFileSync(f, 'utf8').matchAll(call)) if (!m[1]!.startsWith('/')) used.add(m[1]!) // absolute: no PATH lookup
  used.delete('npx') // comes with Node
  t.ok(used.size >= 7, `tests run ${[...used].join(', ')}`)
  for (const tool of used) t.ok(tools.get(tool), `${tool} is listed in scripts/ensure-test-tools.sh`)
})

t.test('all tools present: exit 0, nothing printed', async (t) => {
  const r = run({ PATH: fakePath(t, [...listed().keys()]), DNSVAKT_NO_INSTALL: '1' })
  t.equal(r.status, 0)
  t.equal(r.stdout + r.stderr, '')
})

t.test('tools missing, installing not allowed: one line naming them and their packages, exit 1', async (t) => {
  const present = [...listed().keys()].filter((n) => n !== 'promtool' && n !== 'prometheus' && n !== 'dig')
  const started = Date.now()
  const r = run({ PATH: fakePath(t, present), DNSVAKT_NO_INSTALL: '1' })
  t.equal(r.status, 1)
  t.ok(Date.now() - started < 10_000, 'stops at once')
  t.equal(r.stdout, '')
  const lines = r.stderr.trimEnd().split('\n')
  t.equal(lines.length, 1, r.stderr)
  t.match(lines[0], /needs dig promtool prometheus \(not on PATH\)/)
  t.match(lines[0], /apt-get install --no-install-recommends bind9-dnsutils prometheus \(DNSVAKT_NO_INSTALL=1\)$/)
})

t.test('tools missing and no apt-get: stops with one line instead of trying', async (t) => {
  const present = [...listed().keys()].filter((n) => n !== 'docker-compose')
  const r = run({ PATH: fakePath(t, present) })
  t.equal(r.status, 1)
  t.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
  t.match(r.stderr, /needs docker-compose .*apt-get install --no-install-recommends docker-compose \(no apt-get here\)/)
})
