/**
 * `dnsvakt explain` and the help/version commands in process (the built CLI
 * runs them in test/cli.ts too): options are taken out of the arguments,
 * exactly one NAME is required.
 */
import t from 'tap'
import { PassThrough } from 'node:stream'
import { runExplain } from '../../src/commands/explain-command.js'
import { HELP, runHelp, runVersion, usageError } from '../../src/commands/help-command.js'
import { takeOption } from '../../src/commands/options.js'
import { VERSION } from '../../src/version.js'

function io() {
  const out = new PassThrough()
  const err = new PassThrough()
  const text = { out: '', err: '' }
  out.on('data', (d) => (text.out += d))
  err.on('data', (d) => (text.err += d))
  return { io: { out, err }, text }
}

t.test('explain a blocked name for a client, with --type', async (t) => {
  const c = io()
  t.equal(await runExplain(['www.tiktok.com', '--client', '10.1.2.3', '--type', 'AAAA'], c.io), 0)
  t.match(c.text.out, /^Blocked: client 10\.1\.2\.3 is in group "default", which enforces "tiktok"/)
  const json = JSON.parse(c.text.out.slice(c.text.out.indexOf('\n\n') + 2)) as Record<string, unknown>
  t.match(json, { name: 'www.tiktok.com' })
})

t.test('explain needs exactly one NAME; an option needs its value', async (t) => {
  const none = io()
  t.equal(await runExplain([], none.io), 2)
  t.match(none.text.err, /^explain needs exactly one NAME\n\ndnsvakt .*\n\nUsage:/)
  const two = io()
  t.equal(await runExplain(['a.test', 'b.test'], two.io), 2)
  t.throws(() => takeOption(['--client'], '--client'), { code: 'DNSVAKT_ERR_USAGE', message: '--client needs a value' })
  t.throws(() => takeOption(['--client', '--type', 'A'], '--client'), { code: 'DNSVAKT_ERR_USAGE' })
  const args = ['x', '--type', 'MX', 'y']
  t.equal(takeOption(args, '--type'), 'MX')
  t.same(args, ['x', 'y'], 'the option and its value are taken out')
  t.equal(takeOption(args, '--client'), null)
})

t.test('help, version and usage errors', async (t) => {
  const h = io()
  t.equal(runHelp(h.io), 0)
  t.equal(h.text.out, HELP)
  const v = io()
  t.equal(runVersion(v.io), 0)
  t.equal(v.text.out, `${VERSION}\n`)
  const u = io()
  t.equal(usageError(u.io, 'unknown command "x"'), 2)
  t.equal(u.text.err, `unknown command "x"\n\n${HELP}`)
  t.equal(u.text.out, '')
})

t.test('explain --resolve asks the upstreams and reports a block through the answer', async (t) => {
  const { startFakeUpstream } = await import('../fixtures/fake-upstream.js')
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join, resolve } = await import('node:path')
  const up = await startFakeUpstream({
    rules: {
      'cloaked.example': { cname: ['t.me'], a: ['192.0.2.7'] },
      'telegram-ip.example': { a: ['149.154.167.50'] },
      'plain.example': { a: ['192.0.2.8'] },
    },
  })
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-explain-resolve-'))
  t.teardown(async () => {
    await up.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const config = join(dir, 'dnsvakt.yaml')
  const lists = resolve(new URL('../../blocklists', import.meta.url).pathname)
  writeFileSync(config, JSON.stringify({ upstream: { servers: [up.label] }, blocking: { dir: lists, stateDir: join(dir, 'state') } }))

  const plain = io()
  t.equal(await runExplain(['cloaked.example', '--config', config], plain.io), 0)
  t.match(plain.text.out, /^Not blocked by name/, 'without --resolve the lists alone say nothing')
  t.equal(up.countFor('cloaked.example'), 0, 'and the upstream is not asked')

  const cname = io()
  t.equal(await runExplain(['cloaked.example', '--config', config, '--resolve'], cname.io), 0)
  t.match(cname.text.out, /^Blocked through its answer: its answer passes through t\.me, listed in "telegram"/)
  const json = JSON.parse(cname.text.out.slice(cname.text.out.indexOf('\n\n') + 2)) as { decision: string; resolved: { caught: { caughtBy: string } } }
  t.equal(json.decision, 'blocked')
  t.equal(json.resolved.caught.caughtBy, 'cname')

  const ip = io()
  t.equal(await runExplain(['telegram-ip.example', '--config', config, '--resolve'], ip.io), 0)
  t.match(ip.text.out, /^Blocked through its answer: its answer holds an address in 149\.154\.160\.0\/20/)

  const clean = io()
  t.equal(await runExplain(['plain.example', '--config', config, '--resolve'], clean.io), 0)
  t.match(clean.text.out, /^Not blocked by name/)
  t.match(clean.text.out, /"caught": null/)
  t.ok(up.countFor('plain.example') >= 1, 'the upstream was asked')
})
