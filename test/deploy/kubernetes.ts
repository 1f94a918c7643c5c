/**
 * deploy/kubernetes/: every manifest validated against the Kubernetes API
 * schemas (kubernetes-models, generated from the upstream OpenAPI spec; the
 * ServiceMonitor against the Prometheus Operator's CRD schema), the
 * properties the deployment relies on (client addresses kept, replicas on
 * different nodes, probes on the admin endpoints, the admin port private),
 * and the config in the ConfigMap through `dnsvakt check-config` (the built
 * CLI, as an operator would run it).
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, parseAllDocuments } from 'yaml'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)))
const DIR = join(ROOT, 'deploy/kubernetes')

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown }
const MODELS: Record<string, new (m: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
}

const validate = (m: Manifest): void => {
  const Model = MODELS[`${m.apiVersion}/${m.kind}`]
  if (!Model) throw new Error(`no schema for ${m.apiVersion} ${m.kind}`)
  new Model(m).validate()
}

const kustomization = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[]; namespace: string }
const manifests: Manifest[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0].message}`)
    return d.toJS() as Manifest
  }),
)
const find = <T = Manifest>(kind: string, name?: string): T =>
  manifests.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name)) as T

t.test('every file in deploy/kubernetes is listed in the kustomization', async (t) => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  t.same([...files].sort(), [...kustomization.resources].sort())
})

t.test('every manifest validates against its API schema', async (t) => {
  t.ok(manifests.length >= 8)
  for (const m of manifests) t.doesNotThrow(() => validate(m), `${m.kind}/${m.metadata.name}`)
})

t.test('the validator rejects what the API server would', async (t) => {
  const d = structuredClone(find('Deployment')) as any
  d.spec.template.spec.containers[0].ports[0].containerPort = '53'
  t.throws(() => validate(d), /containerPort/)
  const s = structuredClone(find('Service', 'dnsvakt-dns')) as any
  delete s.spec.ports[0].port
  t.throws(() => validate(s), /port/)
  const sm = structuredClone(find('ServiceMonitor')) as any
  sm.spec.endpoints = 'admin'
  t.throws(() => validate(sm), /endpoints/)
})

t.test('the deployment keeps what dnsvakt needs', async (t) => {
  const d = find<any>('Deployment')
  const pod = d.spec.template.spec
  const c = pod.containers[0]
  t.ok(d.spec.replicas >= 2, 'two or more replicas')
  t.equal(pod.topologySpreadConstraints[0].topologyKey, 'kubernetes.io/hostname', 'spread across nodes')
  t.equal(pod.topologySpreadConstraints[0].whenUnsatisfiable, 'DoNotSchedule')
  t.equal(c.livenessProbe.httpGet.path, '/healthz')
  t.equal(c.readinessProbe.httpGet.path, '/readyz')
  t.ok(c.resources.requests.memory && c.resources.limits.memory, 'memory sized')
  t.equal(c.securityContext.readOnlyRootFilesystem, true)
  const secretEnv = c.env.filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name)
  t.same(secretEnv.sort(), ['DNSVAKT_ADMIN_TOKEN', 'DNSVAKT_PSEUDONYM_SECRET'])
  const secret = find<any>('Secret')
  for (const e of c.env.filter((x: any) => x.valueFrom?.secretKeyRef)) t.ok(e.valueFrom.secretKeyRef.key in secret.stringData, `${e.name} is in the Secret`)
  const pdb = find<any>('PodDisruptionBudget')
  t.same(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels)
  t.equal(pdb.spec.minAvailable, 1)
})

t.test('the DNS service keeps client addresses and the admin port stays private', async (t) => {
  const dns = find<any>('Service', 'dnsvakt-dns')
  t.equal(dns.spec.externalTrafficPolicy, 'Local', 'groups and exemptions are by client address')
  t.same(dns.spec.ports.map((p: any) => `${p.port}/${p.protocol}`).sort(), ['53/TCP', '53/UDP'])
  t.notOk(dns.spec.ports.some((p: any) => p.port === 9153), 'no admin port on the load balancer')
  const np = find<any>('NetworkPolicy')
  const adminRule = np.spec.ingress.find((r: any) => r.ports.some((p: any) => p.port === 9153))
  t.ok(adminRule.from?.length > 0, 'the admin port is reachable only from named peers')
  const sm = find<any>('ServiceMonitor')
  const admin = find<any>('Service', 'dnsvakt-admin')
  t.same(sm.spec.selector.matchLabels, admin.metadata.labels)
})

t.test('the config in the ConfigMap passes dnsvakt check-config', async (t) => {
  const cm = find<any>('ConfigMap')
  const config = parse(cm.data['dnsvakt.yaml'])
  // The pod's list folder is the git clone; here the shipped lists stand in for that checkout.
  config.blocking.dir = join(ROOT, 'blocklists')
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-k8s-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'dnsvakt.yaml')
  writeFileSync(file, JSON.stringify(config))
  const res = spawnSync(process.execPath, [join(ROOT, 'dist/cli.js'), 'check-config', file], { encoding: 'utf8' })
  t.equal(res.status, 0, `${res.stdout}${res.stderr}`)
  t.match(res.stdout, /OK/)
  t.equal(config.workers, 1, 'one process per pod; scale with replicas')
})
