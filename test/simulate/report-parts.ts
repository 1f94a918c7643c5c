/**
 * The parts of a simulation around the comparison: reading the replayed
 * names, and the text report's lines for problems, skips and failures.
 */
import t from 'tap'
import { Writable } from 'node:stream'
import { runSimulate } from '../../src/commands/simulate-command.js'
import { parseReplayNames } from '../../src/simulate/read-names.js'
import { renderReport } from '../../src/simulate/render-report.js'
import type { SimulationReport } from '../../src/simulate/simulate.js'

t.test('replayed names: plain lines, JSON lines, repeats, and what is skipped', async (t) => {
  const r = parseReplayNames([
    '\ufeffWWW.TikTok.com.',
    '  www.tiktok.com  # same name, a comment after it',
    '',
    '# a comment',
    '{"event":"blocked","name":"t.me","client":"10.0.0.0/24"}',
    '{"event":"query","name":42}',
    '{not json',
    'http://example.org/',
    '.',
    'telegram.org\r',
  ].join('\n'))
  t.same([...r.counts.keys()], ['www.tiktok.com', 't.me', 'telegram.org'])
  t.equal(r.counts.get('www.tiktok.com'), 2, 'case, a trailing dot and a byte-order mark do not make a new name')
  t.equal(r.counts.get('t.me'), 1)
  t.equal(r.counts.get('telegram.org'), 1)
  t.equal(r.total, 4)
  t.same(r.skipped.map((s) => [s.line, s.reason.replace(/:.*/, '')]), [
    [6, 'a JSON line without a string "name" field'],
    [7, 'a line starting with "{" that is not JSON'],
    [8, 'not a domain name'],
    [9, 'not a domain name'],
  ])
})

const EMPTY = { newlyBlocked: [], newlyAllowed: [] }

t.test('the text report: problems, skipped lines, no change, and a failure', async (t) => {
  const report: SimulationReport = {
    from: { label: 'old', version: 'a', problems: [] },
    to: { label: 'new', version: 'b', problems: [{ file: 'tiktok.txt', line: 4, text: 'tik*.com', message: 'x' }] },
    names: 1,
    queries: 1,
    skippedLines: [{ line: 3, reason: 'not a domain name: "/"' }],
    categories: [{ category: 'tiktok', ...EMPTY }],
    groups: [{ group: 'students', enforces: [], ...EMPTY }],
    protectedChecked: 2,
    protectedBlocked: [{ name: 'app.kommune.example', source: 'ci/protected.txt', category: 'tiktok', entry: 'kommune.example', file: 'tiktok.txt', line: 9 }],
  }
  const text = renderReport(report)
  t.match(text, /^simulate: 1 name \(1 line\) replayed against old -> new\n/)
  t.match(text, / {2}1 line of the names file skipped \(first: line 3, not a domain name: "\/"\)\n/)
  t.match(text, / {2}the new lists have 1 problem line the gateway leaves out \(lint-lists reports them\): tiktok\.txt:4\n/)
  t.notMatch(text, /the old lists/)
  t.match(text, /\ncategory tiktok: no change\n/)
  t.match(text, /\ngroup students \(enforces nothing\): no change\n/)
  t.match(text, /protected names: 2 checked, 1 would be blocked\n {2}! app\.kommune\.example would be blocked by category tiktok: tiktok\.txt:9 kommune\.example \(protected by ci\/protected\.txt\)\n/)
  t.match(text, /simulate: FAILED: 1 protected name would be blocked\n$/)
})

t.test('usage errors exit 2 with the reason and the usage', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /needs the NAMES file/],
    [['a', 'b', '--from-dir', 'x', '--to-dir', 'y'], /one NAMES file only, got a b/],
    [['n', '--frm', 'x'], /unknown option --frm/],
    [['n', '--from'], /--from needs a value/],
    [['n', '--from', '--to', 'x'], /--from needs a value/],
    [['n', '--from=', '--to', 'x'], /--from needs a value/],
    [['n', '--config', 'a', '--config=b'], /--config given twice/],
    [['n', '--to-dir', 'x'], /give exactly one of --from REV and --from-dir DIR/],
    [['n', '--from', 'a', '--from-dir', 'x', '--to-dir', 'y'], /give exactly one of --from REV and --from-dir DIR/],
    [['n', '--from-dir', 'x'], /give exactly one of --to REV and --to-dir DIR/],
    [['n', '--from', 'HEAD', '--to-dir', 'y'], /--from REV needs --repo DIR/],
    [['n', '--from-dir', 'x', '--to', 'HEAD'], /--to REV needs --repo DIR/],
  ]
  for (const [args, message] of cases) {
    let text = ''
    const out = new Writable({ write(chunk, _e, cb) { text += String(chunk); cb() } })
    t.equal(await runSimulate(args, out), 2, args.join(' '))
    t.match(text, message, args.join(' '))
    t.match(text, /Usage: dnsvakt simulate NAMES/)
  }
})
