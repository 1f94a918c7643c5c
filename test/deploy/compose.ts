/**
 * The container deployment: docker-compose.yml as Compose itself renders it
 * (real docker-compose, offline), the config it mounts checked by dnsvakt's
 * own validation, deploy/Dockerfile against the repository (the paths it
 * copies, the ENTRYPOINT's built file, the .dockerignore), and its
 * HEALTHCHECK run against the real admin listener. No Docker engine is
 * needed (nor available in CI): nothing is built or started here.
 */
import t from 'tap'
import { execFile, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, posix, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, parseDocument } from 'yaml'
import { validate } from '../../src/config/load-config.js'
import { AdminHttp } from '../../src/server/admin-http.js'

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)))
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

const CONFIG_TARGET = '/etc/dnsvakt/dnsvakt.yaml'
const LISTS_TARGET = '/var/lib/dnsvakt/blocklists'

// ---------------------------------------------------------------- docker-compose

/** Runs the real docker-compose from the repo root with an environment free of the file's own variables. */
function compose(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const clean: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^(DNSVAKT_|COMPOSE_)/.test(k)) clean[k] = v
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-compose-'))
  const envFile = join(dir, 'empty.env') // a local .env must not change what is tested
  writeFileSync(envFile, '')
  try {
    const res = spawnSync('docker-compose', ['--env-file', envFile, '-f', 'docker-compose.yml', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...clean, ...env },
    })
    if (res.error) {
      throw new Error(
        `docker-compose is not installed (${res.error.message}). It validates docker-compose.yml offline; ` +
          'install the Debian package: apt-get install --no-install-recommends docker-compose',
      )
    }
    return { status: res.status, stdout: res.stdout, stderr: res.stderr }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

interface Service {
  build?: { context: string; dockerfile: string }
  image?: string
  init?: boolean
  ports?: (string | { host_ip?: string; published?: string | number; target: number; protocol?: string })[]
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[]
  environment?: Record<string, string | null>
  cap_add?: string[]
  cap_drop?: string[]
  sysctls?: Record<string, string | number>
  security_opt?: string[]
  read_only?: boolean
  tmpfs?: string[] | string
  restart?: string
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string }
  stop_grace_period?: string
  stop_signal?: string
  logging?: { driver: string; options?: Record<string, string> }
  profiles?: string[]
  command?: string[]
}

function rendered(env: Record<string, string> = {}): Record<string, Service> {
  const r = compose(['config'], env)
  if (r.status !== 0) throw new Error(`docker-compose config failed (exit ${r.status}):\n${r.stderr}`)
  return (parse(r.stdout) as { services: Record<string, Service> }).services
}

/** "host_ip:published:target/protocol", from Compose v1's short strings or v2's long form. */
function portSpecs(s: Service): string[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'string') return p.includes('/') ? p : `${p}/tcp`
    return `${p.host_ip ?? '0.0.0.0'}:${p.published}:${p.target}/${p.protocol ?? 'tcp'}`
  })
}

t.test('docker-compose config accepts docker-compose.yml and renders what the brief asks', async (t) => {
  const r = compose(['config'])
  t.equal(r.status, 0, `docker-compose config exits 0:\n${r.stderr}`)
  const source = parse(read('docker-compose.yml')) as Record<string, unknown>
  t.notOk('version' in source, 'compose specification: no version key')

  const svc = rendered().dnsvakt
  t.ok(svc, 'a dnsvakt service')
  t.equal(resolve(svc.build?.context ?? ''), ROOT, 'built from the repository root')
  t.equal(svc.build?.dockerfile, 'deploy/Dockerfile')

  const ports = portSpecs(svc)
  t.ok(ports.includes('0.0.0.0:53:53/udp'), `53/udp published: ${ports}`)
  t.ok(ports.includes('0.0.0.0:53:53/tcp'), `53/tcp published: ${ports}`)
  t.ok(ports.includes('127.0.0.1:9153:9153/tcp'), 'admin published on the host loopback')
  t.same(ports.filter((p) => /:9153\//.test(p) && !p.startsWith('127.0.0.1:')), [], 'the admin port is published nowhere else')

  const mount = (target: string) => svc.volumes?.find((v) => v.target === target)
  const cfg = mount(CONFIG_TARGET)
  t.equal(cfg?.type, 'bind')
  t.equal(cfg?.source, join(ROOT, 'deploy/compose/dnsvakt.yaml'))
  t.equal(cfg?.read_only, true, 'config mounted read-only')
  const lists = mount(LISTS_TARGET)
  t.equal(lists?.type, 'bind')
  t.equal(lists?.source, join(ROOT, 'blocklists'), 'the list folder (default: the shipped lists)')
  t.equal(lists?.read_only, true, 'list folder mounted read-only')

  t.ok(svc.cap_add?.includes('NET_BIND_SERVICE'), 'cap_add NET_BIND_SERVICE')
  t.same(svc.cap_drop, ['ALL'])
  // What actually lets the non-root user bind 53 (cap_add gives a non-root process nothing).
  t.ok(Number(svc.sysctls?.['net.ipv4.ip_unprivileged_port_start']) <= 53, 'unprivileged ports start at 53 or below')
  t.ok(svc.security_opt?.includes('no-new-privileges:true'))
  t.equal(svc.read_only, true, 'read-only root file system')
  t.ok([svc.tmpfs].flat().includes('/tmp'), 'tmpfs /tmp')
  t.equal(svc.restart, 'unless-stopped')
  t.equal(svc.stop_grace_period, '10s')
  t.equal(svc.init, true)
  t.equal(svc.logging?.driver, 'json-file')
  t.match(svc.logging?.options?.['max-size'], /^\d+[kmg]$/)
  t.equal(svc.environment?.TZ, 'Europe/Oslo')
  t.ok(svc.environment && 'DNSVAKT_ADMIN_TOKEN' in svc.environment, 'DNSVAKT_ADMIN_TOKEN passed through')
  // Unset on the host must stay unset in the container: an empty token would accept an empty Authorization header.
  t.ok(svc.environment?.DNSVAKT_ADMIN_TOKEN == null, 'not turned into an empty string when the host has none')
  t.equal(svc.healthcheck?.test[0], 'CMD')
  t.same(svc.healthcheck?.test.slice(1), dockerfile().healthcheck, 'the same check as the Dockerfile HEALTHCHECK')
})

t.test('host settings reach the rendered config: token, DNS bind address, list folder', async (t) => {
  const svc = rendered({ DNSVAKT_ADMIN_TOKEN: 'from-the-host', DNSVAKT_DNS_ADDRESS: '10.20.0.53', DNSVAKT_LISTS_DIR: '/srv/dnsvakt-lists' }).dnsvakt
  t.equal(svc.environment?.DNSVAKT_ADMIN_TOKEN, 'from-the-host')
  t.ok(portSpecs(svc).includes('10.20.0.53:53:53/udp'))
  t.ok(portSpecs(svc).includes('10.20.0.53:53:53/tcp'))
  t.ok(portSpecs(svc).includes('127.0.0.1:9153:9153/tcp'), 'admin stays on loopback')
  t.equal(svc.volumes?.find((v) => v.target === LISTS_TARGET)?.source, '/srv/dnsvakt-lists')
})

t.test('the monitoring profile: Prometheus with its own config copy and the unchanged rules', async (t) => {
  const r = compose(['--profile', 'monitoring', 'config', '--services'])
  t.equal(r.status, 0, r.stderr)
  t.same(r.stdout.trim().split('\n').sort(), ['dnsvakt', 'prometheus'])
  const prom = rendered().prometheus
  t.same(prom.profiles, ['monitoring'])
  t.match(prom.image, /^prom\/prometheus:v\d+\.\d+\.\d+$/, 'a pinned Prometheus version')
  const byTarget = new Map((prom.volumes ?? []).map((v) => [v.target, v]))
  t.equal(byTarget.get('/etc/prometheus/prometheus.yml')?.source, join(ROOT, 'deploy/compose/prometheus.yml'))
  t.equal(byTarget.get('/etc/prometheus/rules.yml')?.source, join(ROOT, 'deploy/prometheus/rules.yml'))
  for (const v of prom.volumes ?? []) if (v.type === 'bind') t.ok(existsSync(v.source), `${v.source} exists`)
  t.ok(prom.command?.includes('--config.file=/etc/prometheus/prometheus.yml'))
  t.same(portSpecs(prom), ['127.0.0.1:9090:9090/tcp'], 'Prometheus UI on the host loopback only')

  // The scrape target is the dnsvakt service; job "dnsvakt" is what DnsvaktDown matches.
  const cfg = parse(read('deploy/compose/prometheus.yml')) as { rule_files: string[]; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] }
  t.equal(cfg.scrape_configs[0]?.job_name, 'dnsvakt')
  t.same(cfg.scrape_configs[0]?.static_configs[0]?.targets, ['dnsvakt:9153'])
  t.same(cfg.rule_files, ['rules.yml'])

  // promtool on the files laid out as the container mounts them (rule_files is relative to the config).
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-prom-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  copyFileSync(join(ROOT, 'deploy/compose/prometheus.yml'), join(dir, 'prometheus.yml'))
  copyFileSync(join(ROOT, 'deploy/prometheus/rules.yml'), join(dir, 'rules.yml'))
  const check = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' })
  if (check.error) throw new Error(`promtool must be installed (apt-get install prometheus): ${check.error.message}`)
  t.equal(check.status, 0, `${check.stdout}${check.stderr}`)
  t.match(`${check.stdout}${check.stderr}`, /rules\.yml/)
})

// ---------------------------------------------------------------- the mounted dnsvakt config

t.test('deploy/compose/dnsvakt.yaml passes dnsvakt validation and fits the container', async (t) => {
  const doc = parseDocument(read('deploy/compose/dnsvakt.yaml'), { uniqueKeys: true })
  t.same(doc.errors, [], 'valid YAML')
  const config = validate(doc.toJS(), 'deploy/compose/dnsvakt.yaml')
  const dns = config.listen.dns.map((l) => `${l.address}:${l.port}`)
  t.same(dns, ['0.0.0.0:53', ':::53'], 'every IPv4 and IPv6 address of the container, port 53')
  t.not(config.listen.admin, '', 'admin listener on (the HEALTHCHECK needs it)')
  if (config.listen.admin !== '') {
    t.equal(config.listen.admin.address, '0.0.0.0', 'reachable from the Prometheus container')
    t.equal(config.listen.admin.port, 9153, 'the port the HEALTHCHECK and the published admin port use')
  }
  t.equal(config.blocking.dir, LISTS_TARGET, 'blocking.dir is where the list folder is mounted')
  t.equal(config.blocking.git, null, 'no git sync into a read-only mount')
  t.equal(config.admin.token, null, 'no token in the file')
  t.equal(config.admin.tokenEnv, 'DNSVAKT_ADMIN_TOKEN', 'the variable docker-compose.yml passes through')
  t.equal(config.upstream.servers.some((s) => 'fromResolvConf' in s), false, 'explicit upstreams, not the container resolv.conf')
  t.ok(config.groups.default, 'a default group (fail closed for unmatched clients)')
  t.same(config.groups.default?.enforce.slice().sort(), ['doh-bypass', 'telegram', 'tiktok'])
})

t.test('the same config with the shipped lists passes check-config (categories exist as lists)', async (t) => {
  const cli = join(ROOT, 'dist/cli.js')
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run npm run build first')
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-compose-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // The container path does not exist on the host: point blocking.dir at the folder compose mounts there.
  const text = read('deploy/compose/dnsvakt.yaml').replace(`dir: ${LISTS_TARGET}`, `dir: ${join(ROOT, 'blocklists')}`)
  t.not(text, read('deploy/compose/dnsvakt.yaml'), 'blocking.dir rewritten')
  writeFileSync(join(dir, 'dnsvakt.yaml'), text)
  const r = spawnSync(process.execPath, [cli, 'check-config', join(dir, 'dnsvakt.yaml')], { encoding: 'utf8' })
  t.equal(r.status, 0, `${r.stdout}${r.stderr}`)
})

// ---------------------------------------------------------------- deploy/Dockerfile

interface Instruction {
  readonly op: string
  readonly args: string
  readonly stage: number
}

interface ParsedDockerfile {
  readonly instructions: Instruction[]
  readonly stages: { from: string; name: string | null; workdir: string }[]
  readonly entrypoint: string[]
  readonly cmd: string[]
  /** The HEALTHCHECK command, exec form, without "CMD". */
  readonly healthcheck: string[]
}

function dockerfile(): ParsedDockerfile {
  // Comment lines go first (they may sit inside a continued instruction), then continuations are joined.
  const lines = read('deploy/Dockerfile')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
  const instructions: Instruction[] = []
  const stages: { from: string; name: string | null; workdir: string }[] = []
  for (const line of lines) {
    const m = /^(\w+)\s+(.*)$/.exec(line)
    if (!m) throw new Error(`cannot parse Dockerfile line: ${line}`)
    const op = m[1].toUpperCase()
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(m[2])
      stages.push({ from: f?.[1] ?? '', name: f?.[2] ?? null, workdir: '/' })
    }
    if (op === 'WORKDIR') stages[stages.length - 1].workdir = posix.resolve(stages[stages.length - 1].workdir, m[2])
    instructions.push({ op, args: m[2], stage: stages.length - 1 })
  }
  const last = (op: string) => [...instructions].reverse().find((i) => i.op === op)
  const json = (op: string): string[] => JSON.parse(last(op)?.args ?? 'null') as string[]
  const hc = /^(?:--\S+\s+)*CMD\s+(\[.*\])$/.exec(last('HEALTHCHECK')?.args ?? '')
  return {
    instructions,
    stages,
    entrypoint: json('ENTRYPOINT'),
    cmd: json('CMD'),
    healthcheck: hc ? (JSON.parse(hc[1]) as string[]) : [],
  }
}

/** The .dockerignore decision for a context path: last matching pattern wins; a match on a parent counts. */
function ignored(path: string): boolean {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  const toRegex = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`)
  const parts = posix.normalize(path).split('/')
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'))
  let excluded = false
  for (const raw of patterns) {
    const negate = raw.startsWith('!')
    const re = toRegex(posix.normalize((negate ? raw.slice(1) : raw).replace(/^\//, '')))
    if (prefixes.some((p) => re.test(p))) excluded = !negate
  }
  return excluded
}

t.test('Dockerfile: two node:24-bookworm-slim stages, build / prune, non-root runtime with git', async (t) => {
  const df = dockerfile()
  t.same(df.stages.map((s) => s.from), ['node:24-bookworm-slim', 'node:24-bookworm-slim'], 'Node 24, the current LTS')
  t.equal(df.stages[0].name, 'build')
  const runs = (stage: number) => df.instructions.filter((i) => i.stage === stage && i.op === 'RUN').map((i) => i.args).join(' && ')
  t.match(runs(0), /npm ci\b/)
  t.match(runs(0), /npm run build\b/)
  t.match(runs(0), /npm prune --omit=dev\b/)
  t.match(runs(1), /apt-get install\b[^&]*\bgit\b/, 'git in the runtime image')
  t.match(runs(1), /apt-get install\b[^&]*\btzdata\b/, 'tzdata for TZ=Europe/Oslo')
  t.match(runs(1), new RegExp(`safe\\.directory ${LISTS_TARGET}`), 'git accepts the bind-mounted list checkout')
  const user = [...df.instructions].reverse().find((i) => i.op === 'USER')
  t.equal(user?.stage, 1, 'USER set in the runtime stage')
  t.notMatch(user?.args, /^(0|root)(:|$)/, 'not root')
  t.same(df.instructions.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).sort(), ['53/tcp', '53/udp', '9153/tcp'])
  t.same(df.entrypoint, ['node', '--max-semi-space-size=16', '/app/dist/cli.js'], 'young generation bounded as in docs/deploy.md')
  t.same(df.cmd, ['serve', '--config', CONFIG_TARGET], 'CMD reads the file docker-compose.yml mounts')
  t.equal(df.healthcheck[0], 'node', 'HEALTHCHECK uses node (no curl in slim)')
  t.match(df.healthcheck.join(' '), /http:\/\/127\.0\.0\.1:9153\/healthz/)
})

t.test('Dockerfile: copied paths exist, the context keeps them, the ENTRYPOINT file is what the build makes', async (t) => {
  const df = dockerfile()
  const build = df.stages[0]
  const runtime = df.stages[1]
  const produced = new Set<string>() // paths in the build stage: copied in, or made by npm ci / npm run build
  for (const i of df.instructions.filter((i) => i.op === 'COPY')) {
    const words = i.args.split(/\s+/)
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length)
    const paths = words.filter((w) => !w.startsWith('--'))
    const dest = paths.pop() ?? ''
    const workdir = df.stages[i.stage].workdir
    for (const src of paths) {
      if (from === undefined) {
        t.ok(existsSync(join(ROOT, src)), `COPY ${src}: exists in the repository`)
        t.notOk(ignored(src), `COPY ${src}: not excluded by .dockerignore`)
        if (i.stage === 0) produced.add(posix.resolve(workdir, dest.endsWith('/') ? posix.join(dest, posix.basename(src)) : dest))
      } else {
        t.equal(from, build.name, `COPY --from=${from}: the build stage`)
        const made = produced.has(src) || [posix.join(build.workdir, 'node_modules'), posix.join(build.workdir, 'dist')].includes(src)
        t.ok(made, `COPY --from=build ${src}: copied into or made in the build stage`)
      }
    }
  }
  t.ok(ignored('node_modules') && ignored('dist') && ignored('.git') && ignored('test/deploy/compose.ts'), 'host build output and repo metadata stay out of the context')

  // ENTRYPOINT runs /app/dist/cli.js: /app is the runtime WORKDIR, dist/ comes from the build stage's
  // tsc (outDir dist, rootDir src), so src/cli.ts becomes dist/cli.js, which exists after npm run build.
  t.equal(runtime.workdir, '/app')
  t.ok(df.instructions.some((i) => i.stage === 1 && i.op === 'COPY' && i.args === `--from=build ${build.workdir}/dist ./dist`))
  t.ok(df.instructions.some((i) => i.stage === 1 && i.op === 'COPY' && /package\.json \.\/package\.json$/.test(i.args)), 'package.json (type: module) beside dist/')
  const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string; rootDir: string } }
  t.same([tsconfig.compilerOptions.rootDir, tsconfig.compilerOptions.outDir], ['src', 'dist'])
  t.ok(existsSync(join(ROOT, 'src/cli.ts')))
  t.ok(existsSync(join(ROOT, posix.relative(runtime.workdir, df.entrypoint.at(-1)!))), `${df.entrypoint.at(-1)!} exists in the repo after npm run build (dist/cli.js)`)
  t.equal((JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin.dnsvakt, 'dist/cli.js')
})

// ---------------------------------------------------------------- the HEALTHCHECK, run

/** Runs the HEALTHCHECK's node script against `port` instead of 9153; resolves to its exit code. */
function runHealthcheck(port: number): Promise<number> {
  const [node, flag, script] = dockerfile().healthcheck
  if (node !== 'node' || flag !== '-e' || !script?.includes('127.0.0.1:9153')) throw new Error('HEALTHCHECK is not node -e "... 127.0.0.1:9153 ..."')
  const local = script.replace('127.0.0.1:9153', `127.0.0.1:${port}`)
  return new Promise((done) => {
    execFile(process.execPath, ['-e', local], { timeout: 15_000, cwd: tmpdir() }, (error) => {
      done(error === null ? 0 : typeof error.code === 'number' ? error.code : -1)
    })
  })
}

t.test('the HEALTHCHECK command: 0 against a live admin listener, 1 otherwise', async (t) => {
  const admin = await AdminHttp.listen('127.0.0.1', 0, {
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    ready: () => true,
    status: () => ({}),
    explain: () => {
      throw new Error('not used')
    },
    reload: async () => ({ ok: true }),
    token: null,
  })
  t.teardown(() => admin.close())
  t.equal(await runHealthcheck(admin.port), 0, 'GET /healthz 200 -> healthy')

  const failing = createServer((_req, res) => res.writeHead(503).end())
  await new Promise<void>((ok) => failing.listen(0, '127.0.0.1', ok))
  t.teardown(() => failing.close())
  t.equal(await runHealthcheck((failing.address() as AddressInfo).port), 1, 'a non-200 answer -> unhealthy')

  const closed = createServer()
  await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok))
  const port = (closed.address() as AddressInfo).port
  await new Promise<void>((ok) => closed.close(() => ok()))
  t.equal(await runHealthcheck(port), 1, 'nothing listening -> unhealthy')
})
