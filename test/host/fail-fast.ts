/**
 * A port that cannot be bound stops the whole service at once, with one line
 * naming the key and the address: with one process and with workers (which
 * used to print a stack trace each and leave a primary that never served
 * and never exited, /healthz 200 forever).
 */
import t from 'tap'
import { createSocket } from 'node:dgram'
import { spawnCli } from '../fixtures/built-cli.js'

// Several real service starts (each a primary and its workers): well past the default per-file timeout on a busy runner.
t.setTimeout(240_000)

t.test('a busy DNS port: exit 1 with one line, whatever the worker count', async (t) => {
  const holder = createSocket('udp4')
  await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()))
  t.teardown(() => holder.close())
  const port = holder.address().port
  for (const workers of [1, 2]) {
    const run = spawnCli(t, `workers: ${workers}\nlisten:\n  dns: ["127.0.0.1:${port}"]\n  admin: "127.0.0.1:0"\nupstream:\n  servers: ["127.0.0.1:9"]\n`)
    t.equal(await run.exited, 1, `workers: ${workers}: exits 1`)
    const lines = run.stderr().trim().split('\n')
    t.same(lines, [`dnsvakt: listen.dns: cannot listen on 127.0.0.1:${port} (UDP): the port is already in use (another DNS server, or dnsvakt already running?)`], `workers: ${workers}: one line on stderr`)
    t.notMatch(run.output(), /\n\s+at /, 'no stack trace anywhere')
  }
})

t.test('a busy admin port: exit 1 with one line naming listen.admin', async (t) => {
  const { createServer } = await import('node:net')
  const holder = createServer()
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => holder.close())
  const port = (holder.address() as { port: number }).port
  for (const workers of [1, 2]) {
    const run = spawnCli(t, `workers: ${workers}\nlisten:\n  dns: ["127.0.0.1:0"]\n  admin: "127.0.0.1:${port}"\nupstream:\n  servers: ["127.0.0.1:9"]\n`)
    t.equal(await run.exited, 1, `workers: ${workers}: exits 1`)
    t.match(run.stderr().trim().split('\n'), [new RegExp(`^dnsvakt: listen\\.admin: cannot listen on 127\\.0\\.0\\.1:${port} \\(HTTP\\): the port is already in use`)])
    t.equal(run.stderr().trim().split('\n').length, 1)
  }
})
