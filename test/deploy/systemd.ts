/**
 * deploy/systemd/dnsvakt.service: systemd's own checks (systemd-analyze
 * verify, and the offline security exposure score), then the directives the
 * deployment depends on, read from the unit as systemd parses it (INI with
 * repeatable keys). systemd-analyze runs without a running systemd, so it
 * works in a container and in CI (Debian package systemd).
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)))
const UNIT = 'deploy/systemd/dnsvakt.service'
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

function analyze(...args: string[]): { status: number | null; output: string } {
  const res = spawnSync('systemd-analyze', args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } })
  if (res.error) {
    throw new Error(`systemd-analyze is not installed (${res.error.message}); install the Debian package: apt-get install systemd`)
  }
  return { status: res.status, output: `${res.stdout}${res.stderr}` }
}

/** Sections -> key -> every value given (systemd keys repeat; an empty assignment resets the list). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>()
  let current: Map<string, string[]> | null = null
  const lines = text.replace(/\\\n/g, ' ').split('\n')
  for (const [n, raw] of lines.entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const section = /^\[([^\]]+)\]$/.exec(line)
    if (section) {
      current = new Map()
      sections.set(section[1], current)
      continue
    }
    const kv = /^([A-Za-z0-9]+)\s*=\s*(.*)$/.exec(line)
    if (!kv || current === null) throw new Error(`${UNIT}:${n + 1}: not "Key=value" inside a section: ${line}`)
    const values = kv[2] === '' ? [] : [...(current.get(kv[1]) ?? []), kv[2]]
    current.set(kv[1], values)
  }
  return sections
}

const unit = parseUnit(read(UNIT))
const service = unit.get('Service') ?? new Map<string, string[]>()
/** The effective value of a single-valued key: the last assignment. */
const one = (key: string): string | undefined => service.get(key)?.at(-1)
const all = (key: string): string[] => (service.get(key) ?? []).flatMap((v) => v.split(/\s+/))

t.test('systemd-analyze verify accepts the unit with no warning', async (t) => {
  const r = analyze('verify', '--man=no', UNIT)
  t.equal(r.status, 0, r.output)
  // verify exits 0 on unknown keys or sections and only warns: any line about the unit is a failure.
  t.same(r.output.split('\n').filter((l) => l.includes('dnsvakt.service')), [], 'no warnings about dnsvakt.service')
})

t.test('systemd-analyze security --offline rates the unit OK or better', async (t) => {
  const r = analyze('security', '--offline=true', '--no-pager', UNIT)
  const m = /Overall exposure level for dnsvakt\.service: (\d+(?:\.\d+)?)/.exec(r.output)
  t.ok(m, m ? 'an exposure score' : `no exposure score in:\n${r.output}`)
  // 0 (locked down) .. 10 (unprotected); systemd calls < 2 "OK". The unit scores 1.9 when written.
  t.ok(Number(m?.[1]) <= 2.5, `exposure ${m?.[1]} <= 2.5`)
})

t.test('runs the built gateway with the production config', async (t) => {
  t.equal(one('ExecStart'), '/usr/bin/node --max-semi-space-size=16 /opt/dnsvakt/dist/cli.js serve --config /etc/dnsvakt/dnsvakt.yaml')
  // /opt/dnsvakt is a deployed copy of this repository after npm run build: dist/cli.js is the built CLI.
  t.equal((JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin.dnsvakt, 'dist/cli.js')
  t.ok(existsSync(join(ROOT, 'src/cli.ts')), 'src/cli.ts builds to dist/cli.js')
  t.equal(one('Type'), 'exec')
  t.equal(unit.get('Install')?.get('WantedBy')?.at(-1), 'multi-user.target')
  t.match(unit.get('Unit')?.get('After')?.join(' '), /network-online\.target/)
})

t.test('signals: SIGHUP reloads, SIGTERM stops gracefully within the timeout', async (t) => {
  t.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID')
  t.equal(one('KillSignal'), 'SIGTERM')
  t.equal(one('KillMode'), 'mixed', 'SIGTERM to the main process, which drains its workers')
  t.equal(one('TimeoutStopSec'), '15')
  t.equal(one('Restart'), 'on-failure')
})

t.test('privileges: an unprivileged user with only CAP_NET_BIND_SERVICE', async (t) => {
  const user = one('User')
  const dynamic = one('DynamicUser') === 'yes'
  t.ok(dynamic || (user !== undefined && user !== 'root' && user !== '0'), `DynamicUser or a dedicated user (User=${user})`)
  t.same(all('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE'])
  t.same(all('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE'])
  t.equal(one('NoNewPrivileges'), 'yes')
})

t.test('file system: read-only system, writable list state, private /tmp', async (t) => {
  t.equal(one('ProtectSystem'), 'strict')
  t.equal(one('PrivateTmp'), 'yes')
  t.equal(one('ProtectHome'), 'yes')
  // The list folder (blocking.dir) lives under /var/lib/dnsvakt, writable for blocking.git.
  t.equal(one('StateDirectory'), 'dnsvakt')
  t.ok(all('ReadWritePaths').includes('/var/lib/dnsvakt'), 'ReadWritePaths covers the list folder')
  t.not(one('MemoryDenyWriteExecute'), 'yes', "V8's JIT needs writable executable memory")
  const families = all('RestrictAddressFamilies')
  for (const f of ['AF_UNIX', 'AF_INET', 'AF_INET6']) t.ok(families.includes(f), `${f} allowed (sockets, cluster IPC)`)
})

t.test('environment: TZ, the optional token file, git safe.directory for the list checkout', async (t) => {
  const env = all('Environment')
  t.ok(env.includes('TZ=Europe/Oslo'), 'the clients-today gauge rolls over at Oslo midnight')
  t.same(service.get('EnvironmentFile'), ['-/etc/dnsvakt/env'], 'optional file with DNSVAKT_ADMIN_TOKEN')
  t.ok(env.includes('GIT_CONFIG_KEY_0=safe.directory'))
  t.ok(env.includes('GIT_CONFIG_VALUE_0=/var/lib/dnsvakt/blocklists'))
  t.ok(env.includes('GIT_CONFIG_COUNT=1'))
  // The container uses the same list path (deploy/compose/dnsvakt.yaml), so the docs describe one layout.
  const composeConfig = parse(read('deploy/compose/dnsvakt.yaml')) as { blocking: { dir: string } }
  t.equal(composeConfig.blocking.dir, '/var/lib/dnsvakt/blocklists')
  t.notOk(env.some((e) => e.startsWith('DNSVAKT_ADMIN_TOKEN=')), 'no token in the unit file itself')
})
