/**
 * What the admin listener answers, the same for one process and for the
 * cluster primary: the token rule, explain, reload, and one /v1/status shape
 * whatever the worker count (`workers` always a list; one entry in
 * single-process mode). The host's engine supplies the facts.
 *
 * Personal data behind the token: without the admin token, explain gives
 * the decision and where it comes from (group, category, list file and line,
 * list version) and status gives exemption counts; exemption ids, reasons,
 * approvers and client networks need `Authorization: Bearer <token>`. Every
 * audited call is one `audit` line (action `admin-api`).
 */
import type { Logger } from 'pino'
import type { LoadedConfig } from '../config/load-config.js'
import { audit } from '../list-sync/audit.js'
import { ddrServerName } from '../config/encrypted-schema.js'
import { firewallRoute } from '../firewall/feed-route.js'
import { ClientClassifier } from '../policy/client-classifier.js'
import { explain, type ExplainInput, type Explanation } from '../policy/explain.js'
import { explainResolved } from '../policy/explain-resolved.js'
import { EmbeddedIpv4 } from '../net/embedded-ipv4.js'
import { buildUpstreamLookup } from '../stages/build-lookup.js'
import type { Config } from '../config/schema.js'
import type { AdminCall, AdminRoutes } from '../server/admin-http.js'
import { VERSION } from '../version.js'
import type { HostEngine } from './host-engine.js'
import type { UpstreamHealth, WorkerStatus } from './messages.js'

/**
 * The bearer token for POST endpoints, or null (POST answers 403). An empty
 * value (e.g. `DNSVAKT_ADMIN_TOKEN=`) means none: it must never match a
 * missing or empty header.
 */
export function adminToken(loaded: LoadedConfig, env: NodeJS.ProcessEnv): string | null {
  const { admin } = loaded.config
  return admin.token || env[admin.tokenEnv] || null
}

export function buildAdminRoutes(
  loaded: LoadedConfig,
  engine: HostEngine,
  opts: { env: NodeJS.ProcessEnv; now: () => number; stopping: () => boolean; log?: Logger },
): AdminRoutes {
  const { config } = loaded
  const classifier = new ClientClassifier(config.access.allow, config.groups)
  return {
    token: adminToken(loaded, opts.env),
    metrics: () => engine.metrics(),
    alive: () => engine.alive(),
    // Not ready again once stopping: load balancers drain before the listeners close.
    ready: () => !opts.stopping() && engine.ready(),
    reload: () => engine.reload('admin-api'),
    explain: async (name, client, type, privileged, resolve) => {
      const input = { name, client, type, now: opts.now(), snapshot: engine.snapshot, classifier, mode: config.blocking.mode, ddrServerName: ddrServerName(config) }
      const e = resolve ? await explainThroughUpstreams(input, config) : explain(input)
      return privileged ? e : publicExplanation(e)
    },
    firewall: firewallRoute({ config, snapshot: () => engine.snapshot, now: opts.now, changedAt: (category) => engine.feedChangedAt?.(category) }),
    status: async (privileged) => statusBody(engine, await engine.workers(), opts.now(), privileged),
    audit: (call: AdminCall) => audit(opts.log ?? null, 'admin-api', { ...call }, call.status >= 400),
    candidate: () => engine.candidate?.() ?? null,
  }
}

/**
 * What explain shows without the token. A list of fields that may be shown,
 * not of fields to hide: a field added to Explanation later stays hidden
 * until someone decides it is not personal data and names it here.
 */
const PUBLIC_EXPLAIN_FIELDS: readonly string[] = [
  'name', 'type', 'client', 'access', 'group', 'groupEnforces', 'groupShadows', 'listVersion', 'allowListEntry', 'matches', 'wouldBlock', 'decision', 'answerMode', 'answer', 'resolved',
]
export const WITHHELD = 'withheld: send the admin token (Authorization: Bearer) to see exemption ids, reasons and approvers'

export function publicExplanation(e: Explanation): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const fields = e as unknown as Record<string, unknown>
  for (const k of PUBLIC_EXPLAIN_FIELDS) if (fields[k] !== undefined) out[k] = fields[k]
  // The summary may name an exemption (its id, say): every exemption's own words are cut out of it.
  let summary = e.summary
  for (const x of e.exemptions) for (const v of [x.id, x.reason, x.approvedBy]) if (v) summary = summary.split(v).join('[withheld]')
  out.summary = summary
  out.exemptions = WITHHELD
  return out
}

/** The /v1/status body (documented in README "Admin API"); exemption details only when `privileged`. */
export function statusBody(engine: Pick<HostEngine, 'listeners' | 'snapshot' | 'listsStatus'>, workers: readonly WorkerStatus[], now: number, privileged = false) {
  const all = engine.snapshot.exemptions
  const items = () => all.map((e) => ({
    id: e.id, client: e.client, categories: e.categories, reason: e.reason, approvedBy: e.approvedBy,
    expires: new Date(e.expiresAt).toISOString(), active: e.expiresAt > now,
  }))
  return {
    version: VERSION,
    lists: engine.listsStatus(),
    exemptions: { total: all.length, active: all.filter((e) => e.expiresAt > now).length, items: privileged ? items() : WITHHELD },
    upstreams: mergeUpstreams(workers),
    cache: sumCaches(workers),
    listeners: engine.listeners,
    workers,
  }
}

/** An upstream is up for the host only if every worker answering sees it up; failures are the worst worker's. */
export function mergeUpstreams(workers: readonly WorkerStatus[]): UpstreamHealth[] {
  const merged = new Map<string, UpstreamHealth>()
  for (const w of workers) {
    for (const u of w.upstreams) {
      const seen = merged.get(u.upstream)
      merged.set(u.upstream, seen ? { upstream: u.upstream, up: seen.up && u.up, consecutiveFailures: Math.max(seen.consecutiveFailures, u.consecutiveFailures) } : { ...u })
    }
  }
  return [...merged.values()]
}

function sumCaches(workers: readonly WorkerStatus[]): { entries: number; bytes: number } | null {
  const caches = workers.flatMap((w) => (w.cache ? [w.cache] : []))
  if (caches.length === 0) return null
  return { entries: caches.reduce((n, c) => n + c.entries, 0), bytes: caches.reduce((n, c) => n + c.bytes, 0) }
}

/**
 * explain with resolve=1: asks the configured upstreams on sockets of its own
 * (not the serving cache, so the help desk neither fills nor reads clients'
 * cache), then closes them.
 */
async function explainThroughUpstreams(input: ExplainInput, config: Config): Promise<Explanation> {
  const upstream = buildUpstreamLookup(config.upstream)
  try {
    return await explainResolved(input, upstream.lookup, new EmbeddedIpv4(config.blocking.nat64Prefixes))
  } finally {
    upstream.close()
  }
}
