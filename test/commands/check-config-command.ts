/**
 * `dnsvakt check-config` in process: the shipped example passes; every kind
 * of problem (schema, lists, cross-field, resolv.conf) is listed by key, with
 * exit 1; a missing FILE is a usage error (exit 2). The built CLI is run in
 * test/cli.ts.
 */
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { runCheckConfig } from '../../src/commands/check-config-command.js'
import { ROOT } from '../fixtures/built-cli.js'

function io() {
  const out = new PassThrough()
  const err = new PassThrough()
  let o = ''
  let e = ''
  out.on('data', (d) => (o += d))
  err.on('data', (d) => (e += d))
  return { io: { out, err }, out: () => o, err: () => e }
}
const dir = (t: { teardown(fn: () => void): void }) => {
  const d = mkdtempSync(join(tmpdir(), 'dnsvakt-check-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  return d
}

t.test('the example config passes', async (t) => {
  const c = io()
  t.equal(await runCheckConfig([join(ROOT, 'deploy', 'dnsvakt.example.yaml')], c.io), 0, c.out())
  t.match(c.out(), /: OK \(lists .*tiktok \d+ names\/0 ranges/)
})

t.test('problems from the schema, the lists and the start checks are listed together', async (t) => {
  const d = dir(t)
  mkdirSync(join(d, 'lists'))
  writeFileSync(join(d, 'lists', 'tiktok.txt'), 'tiktok.com\nnot a name!\n')
  writeFileSync(join(d, 'resolv.conf'), 'nameserver 127.0.0.1\nnameserver bogus\n')
  const file = join(d, 'dnsvakt.yaml')
  writeFileSync(file, `listen:\n  dns: ["0.0.0.0:53"]\nupstream:\n  resolvConf: ${join(d, 'resolv.conf')}\nblocking:\n  dir: lists\ngroups:\n  default: { enforce: [tiktok, telegram] }\n`)
  const c = io()
  t.equal(await runCheckConfig([file], c.io), 1)
  const text = c.out()
  t.match(text, /: 4 problem\(s\)/)
  t.match(text, /- tiktok\.txt:2: /, 'a bad list line')
  t.match(text, /- upstream\.resolvConf: .*resolv\.conf:2: "nameserver bogus"/, 'a skipped resolv.conf line')
  t.match(text, /- groups\.default\.enforce: no list for category "telegram"/)
  t.match(text, /- upstream\.servers: 127\.0\.0\.1:53 is dnsvakt's own listener/, 'resolv.conf pointing at our wildcard listener')
})

t.test('a schema error stops before the lists; a missing FILE is a usage error', async (t) => {
  const d = dir(t)
  const file = join(d, 'bad.yaml')
  writeFileSync(file, 'workers: "4"\nblocking:\n  ttl: 300\n')
  const c = io()
  t.equal(await runCheckConfig([file], c.io), 1)
  t.match(c.out(), /2 problem\(s\)\n {2}- workers: .*without quotes\n {2}- blocking\.ttl: .*"300s"/)
  const u = io()
  t.equal(await runCheckConfig([], u.io), 2)
  t.match(u.err(), /^check-config needs a FILE\n\ndnsvakt .*\n\nUsage:/)
  const v = io()
  t.equal(await runCheckConfig(['--config', join(ROOT, 'deploy', 'dnsvakt.example.yaml')], v.io), 0, '--config FILE works too')
})
