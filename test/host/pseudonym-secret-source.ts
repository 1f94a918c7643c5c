/** Where the pseudonym secret comes from: file, then environment, then generated. */
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validate } from '../../src/config/load-config.js'
import { resolvePseudonymSecret } from '../../src/host/pseudonym-secret.js'

const loaded = (log: object, file: string | null) => ({ config: validate({ log }, 'test'), file, blocklistDir: '/nonexistent', exemptionsFile: '/nonexistent/exemptions.yaml' })
const generate = (n: number) => Buffer.alloc(n, 7)

t.test('a relative file is read beside the config file, trimmed, and wins over the environment', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-secret-src-'))
  writeFileSync(join(dir, 'secret'), '0123456789abcdef0123\n')
  const r = resolvePseudonymSecret(loaded({ pseudonymSecretFile: 'secret' }, join(dir, 'dnsvakt.yaml')), { DNSVAKT_PSEUDONYM_SECRET: 'from-the-environment-xx' }, generate)
  t.same(r, { secret: Buffer.from('0123456789abcdef0123'), source: 'file' })
})

t.test('an unreadable file names the key and the path', async (t) => {
  t.throws(() => resolvePseudonymSecret(loaded({ pseudonymSecretFile: '/nonexistent/secret' }, null), {}, generate), {
    code: 'DNSVAKT_ERR_CONFIG',
    message: 'log.pseudonymSecretFile: cannot read /nonexistent/secret (ENOENT)',
  })
})

t.test('a short file secret is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-secret-src-'))
  writeFileSync(join(dir, 'secret'), 'short\n')
  t.throws(() => resolvePseudonymSecret(loaded({ pseudonymSecretFile: join(dir, 'secret') }, null), {}, generate), { message: /^log\.pseudonymSecretFile \(.*\): the pseudonym secret must be at least 16 bytes; got 5/ })
})

t.test('the environment, then a generated secret; an empty variable counts as unset', async (t) => {
  t.same(resolvePseudonymSecret(loaded({}, null), { DNSVAKT_PSEUDONYM_SECRET: 'from-the-environment-xx' }, generate).source, 'env')
  t.same(resolvePseudonymSecret(loaded({}, null), { DNSVAKT_PSEUDONYM_SECRET: '' }, generate), { secret: Buffer.alloc(32, 7), source: 'generated' })
})
