/**
 * `dnsvakt export-firewall` end to end: run in-process on the shipped lists
 * and on a folder of its own, output checked by `nft -c`, the atomic
 * --output file, usage errors and exit codes.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { runExportFirewall } from '../../src/commands/export-firewall-command.js'
import { SHIPPED_LISTS } from '../fixtures/gateway-harness.js'
import { requireTool } from '../fixtures/tool.js'

// The real tools this file runs (listed in scripts/ensure-test-tools.sh): fail at once when one is missing.
requireTool('nft')

function sink() {
  const chunks: string[] = []
  return { stream: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb() } }), text: () => chunks.join('') }
}
async function run(args: string[]) {
  const out = sink()
  const err = sink()
  const code = await runExportFirewall(args, { out: out.stream, err: err.stream })
  return { code, out: out.text(), err: err.text() }
}

t.test('nftables from the shipped lists loads in nft -c', async (t) => {
  const r = await run(['--format', 'nftables'])
  t.equal(r.code, 0, r.err)
  const check = spawnSync('nft', ['-c', '-f', '-'], { input: r.out, encoding: 'utf8' })
  t.equal(check.status, 0, check.stderr)
  t.match(r.out, /set telegram_v4/)
  t.match(r.out, /list version [0-9a-f]{40}|list version sha256:/)
})

t.test('plain for one category, from --dir, to an --output file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-fw-'))
  cpSync(SHIPPED_LISTS, dir, { recursive: true })
  writeFileSync(join(dir, 'doh-bypass.cidrs.txt'), '# test resolver addresses\n9.9.9.9\n2620:fe::fe\n')
  const file = join(dir, 'feed.txt')
  const r = await run(['--format=plain', '--category', 'doh-bypass', '--dir', dir, '--output', file])
  t.equal(r.code, 0, r.err)
  t.equal(r.out, '')
  t.equal(readFileSync(file, 'utf8'), '9.9.9.9/32\n2620:fe::fe/128\n')
  const json = JSON.parse((await run(['--format', 'json', '--dir', dir])).out)
  t.same(json.categories.map((c: { name: string }) => c.name), ['doh-bypass', 'telegram'], 'every enforced category with ranges')
  t.match(json.version, /^sha256:[0-9a-f]{16}$/, 'a folder outside git is stamped with its content hash')
})

t.test('usage errors and unknown categories', async (t) => {
  t.equal((await run([])).code, 2)
  t.match((await run([])).err, /--format is required/)
  t.match((await run(['--format', 'pf'])).err, /unknown format "pf"/)
  t.match((await run(['--format', 'plain', '--bogus'])).err, /unexpected argument --bogus/)
  const unknown = await run(['--format', 'plain', '--category', 'nope'])
  t.equal(unknown.code, 2)
  t.match(unknown.err, /no category "nope"/)
  const noRanges = await run(['--format', 'plain', '--category', 'tiktok'])
  t.equal(noRanges.code, 0)
  t.equal(noRanges.out, '')
  t.match(noRanges.err, /has no address ranges/)
  const missing = await run(['--format', 'plain', '--dir', '/nonexistent/lists'])
  t.equal(missing.code, 1)
  t.match(missing.err, /cannot read list folder/)
})
