import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PACKAGE_ROOT, loadConfig, validate } from '../../src/config/load-config.js'
import { isDnsvaktError } from '../../src/errors.js'

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const EXAMPLE = join(REPO, 'deploy', 'dnsvakt.example.yaml')

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The problems of a config that must fail; fails the test if it loads. */
function problemsOf(fn: () => unknown): string[] {
  try {
    fn()
  } catch (e) {
    if (isDnsvaktError(e, 'DNSVAKT_ERR_CONFIG')) return [...e.problems]
    throw e
  }
  return ['(it loaded without error)']
}

t.test('defaults, with no file', async (t) => {
  const loaded = loadConfig(null)
  const c = loaded.config
  t.equal(loaded.file, null)
  t.same(c.listen.dns, [{ address: '127.0.0.1', port: 5353 }, { address: '::1', port: 5353 }], 'listen 127.0.0.1:5353 and [::1]:5353')
  t.same(c.listen.admin, { address: '127.0.0.1', port: 9153 }, 'admin on 127.0.0.1:9153')
  t.same(c.upstream.servers, [{ fromResolvConf: true }], 'upstream from resolv.conf')
  t.equal(c.upstream.resolvConf, '/etc/resolv.conf')
  t.equal(c.upstream.deadline, 3000, 'deadline 3 s')
  t.equal(c.upstream.tryTimeout, 1000, 'try timeout 1 s')
  t.equal(c.upstream.strategy, 'sequential')
  t.equal(c.listen.tcpIdleTimeout, 10_000)
  t.equal(c.listen.udpReceiveBuffer, 4 * 1024 * 1024)
  t.equal(c.cache.enabled, true)
  t.equal(c.cache.maxBytes, 32 * 1024 * 1024, '32 MiB')
  t.equal(c.cache.maxTtl, 86_400_000, '1 day')
  t.equal(c.cache.negativeMaxTtl, 3_600_000, '1 hour')
  t.equal(c.cache.serveStale.answerTtl, 30_000, 'RFC 8767 suggests 30 s')
  t.equal(c.rateLimit.queriesPerSecond, 0, 'rate limiting off')
  t.equal(c.blocking.mode, 'nxdomain')
  t.equal(c.blocking.ttl, 300_000, '5 min')
  t.equal(c.blocking.exemptions.maxDuration, 365 * 86_400_000, '365 days')
  t.equal(c.blocking.git, null)
  t.same(c.access.allow, ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'], 'loopback, RFC 1918, CGNAT, ULA')
  t.same(Object.keys(c.groups), ['default'])
  t.same(c.groups.default.networks, [])
  t.equal(loaded.blocklistDir, join(PACKAGE_ROOT, 'blocklists'), 'lists in the package folder')
  t.equal(loaded.exemptionsFile, join(PACKAGE_ROOT, 'blocklists', 'exemptions.yaml'))
  t.equal(PACKAGE_ROOT, REPO, 'PACKAGE_ROOT is the repository root')
})

t.test('an empty file and an empty mapping give the defaults', async (t) => {
  const dir = tempDir(t)
  const defaults = loadConfig(null).config
  for (const [name, text] of [['empty.yaml', ''], ['comment.yaml', '# nothing\n'], ['map.yaml', '{}\n']]) {
    writeFileSync(join(dir, name), text)
    const c = loadConfig(join(dir, name))
    t.same(c.config, defaults, name)
    t.equal(c.file, join(dir, name))
  }
})

const FULL = `
listen:
  dns: ["10.20.0.53:53", "[fd00:20::53]:53", "192.0.2.1:53", "[::1]:53"]
  admin: "[::1]:9999"
  tcpIdleTimeout: 2500ms
  tcpMaxConnections: 50
  udpReceiveBuffer: 8MiB
upstream:
  servers: ["192.0.2.10:5300", "tcp://192.0.2.11", "udp://[2001:db8::1]:53", resolv.conf]
  resolvConf: ./resolv.test
  strategy: round-robin
  tryTimeout: 0.5s
  deadline: 2s
  failuresBeforeDown: 5
  probeInterval: 1m
  zones:
    - zone: ad.example.kommune.no
      servers: ["10.1.1.10", "10.1.1.11:53"]
cache:
  enabled: false
  maxEntries: 10
  maxBytes: 512KiB
  minTtl: 10s
  maxTtl: 2h
  negativeMaxTtl: 15m
  serveStale: { enabled: false, maxStale: 1h, answerTtl: 5s }
access:
  allow: ["10.0.0.0/8", "fd00::/8", "192.0.2.7/32"]
rateLimit: { queriesPerSecond: 20, burst: 40 }
blocking:
  dir: lists
  mode: sinkhole
  sinkhole: { ipv4: 10.20.0.80, ipv6: "fd00:20::80" }
  ttl: 1m
  edeText: "Blokkert"
  watchInterval: 5s
  exemptions: { file: /etc/dnsvakt/exemptions.yaml, maxDuration: 90d }
  git: { url: "https://git.example/lists.git", branch: prod, interval: 10m, requireSignedCommits: true, allowedSigners: signers }
groups:
  default: { enforce: [tiktok] }
  staff: { networks: ["10.20.0.0/16", "fd00:20::/48"], enforce: [tiktok, telegram, doh-bypass] }
  students: { networks: ["10.40.0.0/15"], enforce: [] }
log: { level: debug, queries: true, clientAddress: hash }
admin: { token: s3cret, tokenEnv: OTHER_ENV }
`

t.test('a full valid file loads, every string turned into its structure', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'dnsvakt.yaml')
  writeFileSync(file, FULL)
  const { config: c, blocklistDir, exemptionsFile } = loadConfig(file)
  t.same(c.listen.dns, [
    { address: '10.20.0.53', port: 53 },
    { address: 'fd00:20::53', port: 53 },
    { address: '192.0.2.1', port: 53 },
    { address: '::1', port: 53 },
  ])
  t.same(c.listen.admin, { address: '::1', port: 9999 })
  t.equal(c.listen.tcpIdleTimeout, 2500)
  t.equal(c.listen.udpReceiveBuffer, 8 * 1024 * 1024)
  t.same(c.upstream.servers, [
    { address: '192.0.2.10', port: 5300, protocol: 'udp' },
    { address: '192.0.2.11', port: 53, protocol: 'tcp' },
    { address: '2001:db8::1', port: 53, protocol: 'udp' },
    { fromResolvConf: true },
  ])
  t.equal(c.upstream.tryTimeout, 500)
  t.equal(c.upstream.deadline, 2000)
  t.equal(c.upstream.probeInterval, 60_000)
  t.same(c.upstream.zones, [{ zone: 'ad.example.kommune.no', servers: [{ address: '10.1.1.10', port: 53, protocol: 'udp' }, { address: '10.1.1.11', port: 53, protocol: 'udp' }] }])
  t.equal(c.cache.maxBytes, 512 * 1024)
  t.equal(c.cache.minTtl, 10_000)
  t.equal(c.cache.maxTtl, 7_200_000)
  t.equal(c.cache.negativeMaxTtl, 900_000)
  t.same(c.cache.serveStale, { enabled: false, maxStale: 3_600_000, answerTtl: 5000 })
  t.same(c.rateLimit, { queriesPerSecond: 20, burst: 40, ipv4Prefix: 32, ipv6Prefix: 56, maxClients: 100_000, logInterval: 60_000, groups: {} })
  t.equal(c.blocking.mode, 'sinkhole')
  t.same(c.blocking.sinkhole, { ipv4: '10.20.0.80', ipv6: 'fd00:20::80' })
  t.equal(c.blocking.ttl, 60_000)
  t.equal(c.blocking.exemptions.maxDuration, 90 * 86_400_000)
  t.same(c.blocking.git, { url: 'https://git.example/lists.git', branch: 'prod', interval: 600_000, requireSignedCommits: true, allowedSigners: 'signers' })
  t.same(c.groups.staff, { networks: ['10.20.0.0/16', 'fd00:20::/48'], enforce: ['tiktok', 'telegram', 'doh-bypass'] })
  t.same(c.groups.default, { networks: [], enforce: ['tiktok'] })
  t.same(c.log, { level: 'debug', queries: true, clientAddress: 'hash' })
  t.same(c.admin, { token: 's3cret', tokenEnv: 'OTHER_ENV' })
  t.equal(blocklistDir, join(dir, 'lists'), 'relative dir against the config folder')
  t.equal(exemptionsFile, '/etc/dnsvakt/exemptions.yaml', 'absolute exemptions file kept')
})

t.test('unknown keys anywhere are errors naming the key and its path', async (t) => {
  // [what, raw config, path prefix of the problem, the unknown key]
  const cases: Array<[string, unknown, string, string]> = [
    ['top level', { lisen: {} }, '(top level)', 'lisen'],
    ['listen', { listen: { dnss: [] } }, 'listen', 'dnss'],
    ['upstream', { upstream: { timeout: '1s' } }, 'upstream', 'timeout'],
    ['upstream zone', { upstream: { zones: [{ zone: 'a.example', servers: ['10.0.0.1'], weight: 1 }] } }, 'upstream.zones.0', 'weight'],
    ['cache.serveStale', { cache: { serveStale: { enable: true } } }, 'cache.serveStale', 'enable'],
    ['access', { access: { deny: [] } }, 'access', 'deny'],
    ['rateLimit', { rateLimit: { qps: 5 } }, 'rateLimit', 'qps'],
    ['blocking.sinkhole', { blocking: { sinkhole: { ipv4: null, address: 'x' } } }, 'blocking.sinkhole', 'address'],
    ['blocking.exemptions', { blocking: { exemptions: { path: 'x' } } }, 'blocking.exemptions', 'path'],
    ['blocking.git', { blocking: { git: { url: 'x', brnach: 'main' } } }, 'blocking.git', 'brnach'],
    ['a group', { groups: { staff: { networks: [], enforc: [] } } }, 'groups.staff', 'enforc'],
    ['log', { log: { format: 'json' } }, 'log', 'format'],
    ['admin', { admin: { password: 'x' } }, 'admin', 'password'],
  ]
  for (const [what, raw, path, key] of cases) {
    const problems = problemsOf(() => validate(raw, what))
    t.ok(problems.some((p) => p.startsWith(`${path}:`) && p.includes(key)), `${what}: ${JSON.stringify(problems)}`)
  }
})

t.test('bad durations, sizes, CIDRs and addresses are errors naming the key', async (t) => {
  // [raw config, key path the problem must start with]
  const cases: Array<[unknown, string]> = [
    [{ upstream: { tryTimeout: 5 } }, 'upstream.tryTimeout'],
    [{ upstream: { tryTimeout: '5' } }, 'upstream.tryTimeout'],
    [{ upstream: { deadline: '3 seconds' } }, 'upstream.deadline'],
    [{ upstream: { deadline: '-1s' } }, 'upstream.deadline'],
    [{ cache: { maxTtl: '1w' } }, 'cache.maxTtl'],
    [{ blocking: { ttl: 's' } }, 'blocking.ttl'],
    [{ cache: { maxBytes: '64MB' } }, 'cache.maxBytes'],
    [{ cache: { maxBytes: -1 } }, 'cache.maxBytes'],
    [{ access: { allow: ['10.0.0.0/33'] } }, 'access.allow.0'],
    [{ access: { allow: ['10.0.0.0/8', 'banana'] } }, 'access.allow.1'],
    [{ access: { allow: ['10.0.0.1/'] } }, 'access.allow.0'],
    [{ access: { allow: ['10.0.0.0/8/8'] } }, 'access.allow.0'],
    [{ access: { allow: ['2001:db8::/129'] } }, 'access.allow.0'],
    [{ access: { allow: ['10.0.0.0/-1'] } }, 'access.allow.0'],
    [{ access: { allow: ['192.168.1.0/'] } }, 'access.allow.0'],
    [{ groups: { staff: { networks: ['10.20.0.0/'] } } }, 'groups.staff.networks.0'],
    [{ groups: { staff: { networks: ['10.20.0.0/1.5'] } } }, 'groups.staff.networks.0'],
    [{ listen: { dns: ['localhost:53'] } }, 'listen.dns.0'],
    [{ listen: { dns: ['10.0.0.1:70000'] } }, 'listen.dns.0'],
    [{ listen: { dns: ['10.0.0.1:port'] } }, 'listen.dns.0'],
    [{ listen: { dns: [] } }, 'listen.dns'],
    [{ listen: { admin: 'admin.local:9153' } }, 'listen.admin'],
    [{ upstream: { servers: ['dns.google'] } }, 'upstream.servers.0'],
    [{ upstream: { servers: ['tcp://dns.google:53'] } }, 'upstream.servers.0'],
    [{ upstream: { servers: [] } }, 'upstream.servers'],
    [{ blocking: { sinkhole: { ipv4: '::1' } } }, 'blocking.sinkhole.ipv4'],
    [{ blocking: { sinkhole: { ipv6: '10.0.0.1' } } }, 'blocking.sinkhole.ipv6'],
    [{ blocking: { mode: 'drop' } }, 'blocking.mode'],
    [{ groups: { Staff: { networks: [] } } }, 'groups.Staff'],
    [{ groups: { staff: { enforce: ['TikTok'] } } }, 'groups.staff.enforce.0'],
    [{ rateLimit: { queriesPerSecond: -1 } }, 'rateLimit.queriesPerSecond'],
    [{ log: { level: 'verbose' } }, 'log.level'],
  ]
  for (const [raw, path] of cases) {
    const problems = problemsOf(() => validate(raw, 'test'))
    t.ok(problems.some((p) => p.startsWith(`${path}:`)), `${JSON.stringify(raw)} -> ${JSON.stringify(problems)}`)
  }
})

t.test('several problems are all listed at once', async (t) => {
  const raw = {
    listen: { dns: ['nope'], admin: 'also-nope' },
    upstream: { tryTimeout: '1x' },
    cache: { serveStale: { answerTtl: 30 } },
    access: { allow: ['10.0.0.0/40'] },
    extra: true,
  }
  const problems = problemsOf(() => validate(raw, 'test'))
  for (const path of ['listen.dns.0', 'listen.admin', 'upstream.tryTimeout', 'cache.serveStale.answerTtl', 'access.allow.0', '(top level)']) {
    t.ok(problems.some((p) => p.startsWith(`${path}:`)), `${path} is listed`)
  }
  t.equal(problems.length, 6, 'one problem each')
  try {
    validate(raw, 'my-config.yaml')
  } catch (e) {
    t.match((e as Error).message, /my-config\.yaml/, 'the message names the origin')
    for (const p of problems) t.ok((e as Error).message.includes(p), `the message lists "${p}"`)
  }
})

t.test('invalid YAML reports the line', async (t) => {
  const dir = tempDir(t)
  // [what, text, line the problem must name]
  const cases: Array<[string, string, number]> = [
    ['unclosed flow sequence', 'listen:\n  dns: ["127.0.0.1:53"\nupstream:\n  deadline: 3s\n', 3],
    ['duplicate key', 'cache:\n  enabled: true\n  maxTtl: 1h\n  enabled: false\n', 4],
    ['bad indentation', 'listen:\n  dns: ["127.0.0.1:53"]\n admin: ""\n', 3],
    ['tab indentation', '# comment\nlisten:\n\tadmin: ""\n', 3],
  ]
  for (const [what, text, line] of cases) {
    const file = join(dir, `${what.replace(/ /g, '-')}.yaml`)
    writeFileSync(file, text)
    const problems = problemsOf(() => loadConfig(file))
    t.ok(problems.length > 0 && problems.some((p) => new RegExp(`\\bline ${line}\\b`).test(p)), `${what}: ${JSON.stringify(problems)}`)
  }
  t.ok(problemsOf(() => loadConfig(join(dir, 'missing.yaml'))).length > 0, 'a missing file is a config error')
})

t.test('cross-field rules', async (t) => {
  // [what, raw config, path prefix, text the problem must contain]
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['deadline shorter than one try', { upstream: { tryTimeout: '2s', deadline: '1s' } }, 'upstream.deadline', /tryTimeout/],
    ['sinkhole mode without addresses', { blocking: { mode: 'sinkhole' } }, 'blocking.sinkhole', /sinkhole/],
    [
      'duplicate network across groups',
      { groups: { default: { enforce: [] }, a: { networks: ['10.1.0.0/16'] }, b: { networks: ['10.1.0.0/16'] } } },
      'groups.b.networks',
      /10\.1\.0\.0\/16.*"a"/,
    ],
    ['default group with networks', { groups: { default: { networks: ['10.0.0.0/8'], enforce: [] } } }, 'groups.default.networks', /default/],
    ['minTtl above maxTtl', { cache: { minTtl: '2h', maxTtl: '1h' } }, 'cache.minTtl', /maxTtl/],
  ]
  for (const [what, raw, path, text] of cases) {
    const problems = problemsOf(() => validate(raw, what))
    t.ok(problems.some((p) => p.startsWith(`${path}:`) && text.test(p)), `${what}: ${JSON.stringify(problems)}`)
  }
  t.doesNotThrow(() => validate({ upstream: { tryTimeout: '2s', deadline: '2s' } }, 'equal'), 'deadline equal to tryTimeout is fine')
  t.doesNotThrow(() => validate({ blocking: { mode: 'sinkhole', sinkhole: { ipv6: '::1' } } }, 'v6 only'), 'sinkhole with only IPv6 is fine')
  const all = problemsOf(() =>
    validate({ upstream: { tryTimeout: '2s', deadline: '1s' }, blocking: { mode: 'sinkhole' }, groups: { default: { networks: ['10.0.0.0/8'] } } }, 'three'),
  )
  t.equal(all.length, 3, `all cross-field problems at once: ${JSON.stringify(all)}`)
})

t.test('relative paths resolve against the config file folder', async (t) => {
  const dir = tempDir(t)
  mkdirSync(join(dir, 'etc'))
  const cases: Array<[string, string, string]> = [
    ['blocking: { dir: ../lists }\n', join(dir, 'lists'), join(dir, 'lists', 'exemptions.yaml')],
    ['blocking: { dir: lists, exemptions: { file: ../ex.yaml } }\n', join(dir, 'etc', 'lists'), join(dir, 'etc', 'ex.yaml')],
    // Left out, blocking.dir is the shipped lists, wherever the config file is.
    ['{}\n', join(REPO, 'blocklists'), join(REPO, 'blocklists', 'exemptions.yaml')],
    ['blocking: { dir: /srv/lists }\n', '/srv/lists', '/srv/lists/exemptions.yaml'],
  ]
  for (const [text, blocklistDir, exemptionsFile] of cases) {
    writeFileSync(join(dir, 'etc', 'dnsvakt.yaml'), text)
    const loaded = loadConfig(join(dir, 'etc', 'dnsvakt.yaml'))
    t.equal(loaded.blocklistDir, blocklistDir, `${text.trim()}: list folder`)
    t.equal(loaded.exemptionsFile, exemptionsFile, `${text.trim()}: exemptions file`)
  }
  // A relative config path works from the current directory too.
  const cwd = process.cwd()
  process.chdir(dir)
  t.teardown(() => process.chdir(cwd))
  writeFileSync(join(dir, 'etc', 'dnsvakt.yaml'), 'blocking: { dir: ../lists }\n')
  t.equal(loadConfig('etc/dnsvakt.yaml').blocklistDir, join(dir, 'lists'))
  process.chdir(cwd)
})

t.test('deploy/dnsvakt.example.yaml loads, and documents the defaults', { skip: !existsSync(EXAMPLE) && 'deploy/dnsvakt.example.yaml not written yet' }, async (t) => {
  const loaded = loadConfig(EXAMPLE)
  t.equal(loaded.blocklistDir, join(REPO, 'blocklists'), 'its list folder is the shipped one')
  // The example says it shows every key with its default: apart from the list folder
  // (relative to the file) and the example groups, it must equal the built-in defaults.
  const defaults = loadConfig(null).config
  for (const key of Object.keys(defaults) as Array<keyof typeof defaults>) {
    if (key === 'groups') continue
    if (key === 'blocking') {
      t.same({ ...loaded.config.blocking, dir: null }, { ...defaults.blocking, dir: null }, 'blocking (apart from dir)')
      continue
    }
    t.same(loaded.config[key], defaults[key], key)
  }
  t.same(loaded.config.groups.default, defaults.groups.default, 'the default group')
})

t.test('errors guide: each names the key, quotes what was given and shows the expected form', async (t) => {
  // [raw config, the whole problem line (key, given value, example)]
  const cases: Array<[unknown, RegExp]> = [
    [{ listen: { admin: '9153' } }, /^listen\.admin: .*got "9153", a port without an address: write "127\.0\.0\.1:9153"/],
    [{ listen: { admin: 'localhost:9153' } }, /^listen\.admin: expected "IP:port" with an IP address \(names are not resolved\) such as "127\.0\.0\.1:9153" .*got "localhost:9153"$/],
    [{ listen: { admin: '127.0.0.1' } }, /^listen\.admin: expected "IP:port" \(the port is required\) such as "127\.0\.0\.1:9153", got "127\.0\.0\.1"$/],
    [{ listen: { admin: 9153 } }, /^listen\.admin: expected "IP:port" such as "127\.0\.0\.1:9153", or "" \(off\), got the number 9153$/],
    [{ listen: { dns: ['127.0.0.1'] } }, /^listen\.dns\.0: expected "IP:port" \(the port is required\) such as "127\.0\.0\.1:53", got "127\.0\.0\.1"$/],
    [{ listen: { dns: ['fd00:20::53'] } }, /^listen\.dns\.0: .*the port is required.* such as "\[fd00:20::53\]:53", got "fd00:20::53"$/],
    [{ listen: { dns: ['10.0.0.1:70000'] } }, /^listen\.dns\.0: expected a port from 0 to 65535 .*such as "10\.0\.0\.1:53", got "10\.0\.0\.1:70000"$/],
    [{ listen: { dns: ['[::1]:99999'] } }, /^listen\.dns\.0: expected a port from 0 to 65535 .*such as "\[::1\]:53", got "\[::1\]:99999"$/],
    [{ listen: { dns: '127.0.0.1:53' } }, /^listen\.dns: expected a list such as \["127\.0\.0\.1:53", "\[::1\]:53"\], got "127\.0\.0\.1:53"$/],
    [{ workers: '4' }, /^workers: expected a number such as 4, or "auto", got the text "4": write it without quotes$/],
    [{ workers: 0 }, /^workers: expected a whole number from 1 to 64 such as 4, or "auto" \(one per core\), got the number 0$/],
    [{ blocking: { ttl: 300 } }, /^blocking\.ttl: expected a duration with a unit, such as "300s" or "300ms", got the number 300/],
    [{ upstream: { deadline: '3 seconds' } }, /^upstream\.deadline: expected a duration such as "500ms", "3s", "5m", "1h" or "7d", got "3 seconds"$/],
    [{ cache: { maxBytes: '64MB' } }, /^cache\.maxBytes: expected a size such as "64MiB".*got "64MB"$/],
    [{ cache: { maxEntries: '1000' } }, /^cache\.maxEntries: expected a number such as 100000, got the text "1000": write it without quotes$/],
    [{ cache: { enabled: 'yes' } }, /^cache\.enabled: expected true or false, got "yes"$/],
    [{ rateLimit: { burst: 0 } }, /^rateLimit\.burst: expected a whole number 1 or more such as 200, got the number 0$/],
    [{ blocking: { mode: 'drop' } }, /^blocking\.mode: expected one of nxdomain, nodata, null, zero-ip, refused, sinkhole, got "drop"$/],
    [{ blocking: { mode: null } }, /^blocking\.mode: .*got an empty value: write "null" in quotes, or zero-ip$/],
    [{ blocking: { sinkhole: { ipv4: '::1' } } }, /^blocking\.sinkhole\.ipv4: expected an IPv4 address such as "10\.20\.0\.80" or null, got "::1"$/],
    [{ log: { level: 'verbose' } }, /^log\.level: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/],
    [{ upstream: { servers: ['dns.google'] } }, /^upstream\.servers\.0: expected "resolv\.conf", "IP:port".*such as "192\.0\.2\.53:53", got "dns\.google"/],
    [{ access: { allow: ['banana'] } }, /^access\.allow\.0: expected a network in CIDR form such as "10\.0\.0\.0\/8".*got "banana"$/],
    [{ groups: { Staff: {} } }, /^groups\.Staff: group names: .*such as "staff-vpn", got "Staff"$/],
    [{ listen: 'x' }, /^listen: expected a mapping .*got "x"$/],
    [{ blocking: { git: { branch: 'prod' } } }, /^blocking\.git\.url: expected a text such as "https:.*", got nothing$/],
    [{ blocking: { edeText: 'x'.repeat(300) } }, /^blocking\.edeText: expected a text of at most 200 characters .*got "x{40}"\.\.\. \(300 characters\)$/],
  ]
  for (const [raw, line] of cases) {
    const problems = problemsOf(() => validate(raw, 'test'))
    t.equal(problems.length, 1, `${JSON.stringify(raw)}: one problem`)
    t.match(problems[0], line, JSON.stringify(raw))
  }
})

t.test('listeners need a port; upstreams keep the DNS port 53 as default', async (t) => {
  const c = validate({ listen: { dns: ['0.0.0.0:53', '[::]:53', '127.0.0.1:0'] }, upstream: { servers: ['192.0.2.10', 'tcp://[2001:db8::1]'] } }, 'test')
  t.same(c.listen.dns, [{ address: '0.0.0.0', port: 53 }, { address: '::', port: 53 }, { address: '127.0.0.1', port: 0 }], 'port 0 (a free port) is allowed')
  t.same(c.upstream.servers, [{ address: '192.0.2.10', port: 53, protocol: 'udp' }, { address: '2001:db8::1', port: 53, protocol: 'tcp' }])
  t.equal(validate({ listen: { admin: '' } }, 'test').listen.admin, '', '"" turns the admin listener off')
})

t.test('blocking.mode: zero-ip is null; an unquoted YAML null means the null mode, an empty value is an error', async (t) => {
  t.equal(validate({ blocking: { mode: 'zero-ip' } }, 'test').blocking.mode, 'null', 'zero-ip is another name for null')
  t.equal(validate({ blocking: { mode: 'null' } }, 'test').blocking.mode, 'null')
  const dir = tempDir(t)
  const file = join(dir, 'dnsvakt.yaml')
  for (const text of ['blocking:\n  mode: null\n', 'blocking:\n  mode: NULL\n', 'blocking:\n  mode: "null"\n', 'blocking: { mode: null }\n']) {
    writeFileSync(file, text)
    t.equal(loadConfig(file).config.blocking.mode, 'null', JSON.stringify(text))
  }
  for (const text of ['blocking:\n  mode:\n', 'blocking:\n  mode: ~\n']) {
    writeFileSync(file, text)
    const problems = problemsOf(() => loadConfig(file))
    t.match(problems, [/^blocking\.mode: .*write "null" in quotes, or zero-ip$/], JSON.stringify(text))
  }
  writeFileSync(file, 'blocking:\n  sinkhole: { ipv4: null }\n')
  t.equal(loadConfig(file).config.blocking.sinkhole.ipv4, null, 'null elsewhere stays YAML null')
})

t.test('a config file with a number for a duration names the key, the value and an example', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'dnsvakt.yaml')
  writeFileSync(file, 'workers: "4"\nlisten:\n  dns: ["127.0.0.1"]\n  admin: "9153"\nblocking:\n  ttl: 300\n')
  try {
    loadConfig(file)
    t.fail('loaded')
  } catch (e) {
    const message = (e as Error).message
    t.match(message, file, 'names the file')
    t.match(message, /- workers: .*got the text "4"/)
    t.match(message, /- listen\.dns\.0: .*"127\.0\.0\.1:53"/)
    t.match(message, /- listen\.admin: .*"127\.0\.0\.1:9153"/)
    t.match(message, /- blocking\.ttl: .*"300s"/)
  }
})
