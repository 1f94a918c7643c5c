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
