/**
 * Pseudonyms agree across workers and instances: the secret comes from
 * `log.pseudonymSecretFile` or DNSVAKT_PSEUDONYM_SECRET (shared by every
 * instance), or, with neither, the primary generates one and hands it to its
 * workers. Real processes; TCP queries, because the cluster primary deals
 * TCP connections to workers in turn, so both workers answer.
 */
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tcpAsk } from '../fixtures/dns-client.js'
import { startCli, type StartedCli, until } from '../fixtures/built-cli.js'

// Several real service starts (each a primary and its workers): well past the default per-file timeout on a busy runner.
t.setTimeout(240_000)

const SECRET = 'shared-by-every-instance-of-the-municipality'
const yaml = (workers: number, extra = '') =>
  `workers: ${workers}\nlisten:\n  dns: ["127.0.0.1:0"]\n  admin: "127.0.0.1:0"\nupstream:\n  servers: ["127.0.0.1:9"]\nlog:\n  clientAddress: hash\n${extra}`

/** Asks for a blocked name over TCP and returns the pseudonyms logged for it, with the worker that logged each. */
async function blockedFrom(svc: StartedCli, queries: number): Promise<Array<{ worker: number | undefined; client: string }>> {
  for (let i = 0; i < queries; i++) await tcpAsk(svc.dnsPort, { name: 'tiktok.com' })
  const lines = () => svc.logs().filter((l) => l.event === 'blocked')
  await until(() => lines().length >= queries)
  // Cluster workers log with their worker id (cli.ts sets it as the logger's base).
  return lines().map((l) => ({ worker: l.worker as number | undefined, client: l.client as string }))
}

t.test('two instances with the same secret log the same pseudonym for the same client', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-secret-'))
  writeFileSync(join(dir, 'pseudonym.secret'), `${SECRET}\n`)
  const fromFile = await startCli(t, yaml(2, `  pseudonymSecretFile: "${join(dir, 'pseudonym.secret')}"\n`))
  const fromEnv = await startCli(t, yaml(1), { DNSVAKT_PSEUDONYM_SECRET: SECRET })
  t.equal(fromFile.started.pseudonymSecret, 'file')
  t.equal(fromEnv.started.pseudonymSecret, 'env')
  const a = await blockedFrom(fromFile, 4)
  const b = await blockedFrom(fromEnv, 2)
  t.equal(new Set(a.map((x) => x.worker)).size, 2, 'both workers of the first instance answered')
  const pseudonyms = new Set([...a, ...b].map((x) => x.client))
  t.equal(pseudonyms.size, 1, 'one pseudonym for 127.0.0.1 everywhere')
  t.match([...pseudonyms][0], /^[0-9a-f]{16}$/, 'a pseudonym, not the address')
})

t.test('with no secret set, the primary generates one and its workers share it', async (t) => {
  const svc = await startCli(t, yaml(2), { DNSVAKT_PSEUDONYM_SECRET: '' })
  t.equal(svc.started.pseudonymSecret, 'generated')
  const seen = await blockedFrom(svc, 4)
  t.equal(new Set(seen.map((x) => x.worker)).size, 2, 'both workers answered')
  t.equal(new Set(seen.map((x) => x.client)).size, 1, 'and logged the same pseudonym')
})

t.test('a secret shorter than 16 bytes stops the start with one line', async (t) => {
  const { spawnCli } = await import('../fixtures/built-cli.js')
  const run = spawnCli(t, yaml(1), { DNSVAKT_PSEUDONYM_SECRET: 'short' })
  t.equal(await run.exited, 1)
  t.match(run.stderr(), /^dnsvakt: DNSVAKT_PSEUDONYM_SECRET: the pseudonym secret must be at least 16 bytes; got 5/)
})
