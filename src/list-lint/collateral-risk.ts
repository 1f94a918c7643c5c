/**
 * Names that must never be listed as a base domain (or a parent of one), each
 * with the reason from shared/reference/SOURCES.md: blocking them would hit
 * far more than TikTok or Telegram. lint-lists reports them as errors.
 */

/** A name that must never be blocked as a base domain, nor covered by a shorter entry. */
export interface CollateralName {
  readonly name: string
  readonly reason: string
}

const CDN = 'a CDN/cloud provider zone shared by many unrelated customers: blocking the base breaks large parts of the web; list only TikTok-specific names below it (SOURCES.md, RISKY / COLLATERAL)'
const BYTEDANCE_CDN = 'a ByteDance/BytePlus CDN/GSLB zone likely serving other ByteDance products and possibly BytePlus cloud customers; list only TikTok-labelled names below it (SOURCES.md)'
const TTDNS = 'a ByteDance GTM zone shared with Lark (v2fly lark-global lists larksuite.com.ttdns1.com / larksuite.com.ttdns2.com); list only TikTok-labelled hosts such as tiktok.com.ttdns2.com (SOURCES.md)'
const TELEGRAM_FALLBACK = 'Telegram\'s fallback-config path (Firebase / domain fronting), but these hosts serve countless other apps and services: never block; rely on the IP block and DoH blocking (SOURCES.md)'
const DOH_ORG = 'a whole organisation\'s domain behind a DoH resolver (it also runs mail, web and other services): list only the resolver host names, e.g. dns.switch.ch (SOURCES.md)'
const PUBLIC_SUFFIX = 'a public suffix: every registrant or hosting customer has names under it, so blocking it blocks all of them (Public Suffix List)'

/**
 * The collateral-risk notes of blocklists/README.md and SOURCES.md, plus the
 * names test/lists/shipped-lists.ts keeps unblocked, plus public suffixes.
 * Removing a name here is a policy change: review it like a list change.
 */
export const COLLATERAL_NAMES: readonly CollateralName[] = [
  // CDN and cloud zones.
  ...['akamaized.net', 'edgesuite.net', 'edgekey.net', 'akadns.net', 'akamaihd.net'].map((name) => ({ name, reason: `Akamai: ${CDN}` })),
  { name: 'fastly.net', reason: `Fastly: ${CDN}` },
  { name: 'map.fastly.net', reason: 'Fastly\'s shared CNAME zone for its customers (bytedance.map.fastly.net is fine as an exact name; SOURCES.md)' },
  { name: 'cloudflare.net', reason: `Cloudflare: ${CDN}` },
  { name: 'cdn.cloudflare.net', reason: 'Cloudflare\'s shared CNAME zone for its customers (tiktokv.com.cdn.cloudflare.net is fine as an exact name)' },
  { name: 'footprint.net', reason: `Lumen (Level 3): ${CDN}` },
  { name: 'myqcloud.com', reason: `Tencent Cloud: ${CDN}` },
  { name: 'liveplay.myqcloud.com', reason: 'Tencent Cloud\'s shared live-streaming zone (tiktokcdn.liveplay.myqcloud.com is fine as an exact name)' },
  ...['wsdvs.com', 'bsgslb.com', 'cdngslb.com', 'swiftserve.com', 'mncdn.com', 'cdnvideo.ru'].map((name) => ({ name, reason: CDN })),
  ...['worldfcdn.com', 'worldfcdn2.com'].map((name) => ({ name, reason: `worldfcdn*.com: ${CDN}` })),
  ...['kunlunca.com', 'kunluncan.com', 'kunlungr.com', 'kunlunhuf.com', 'kunlunle.com', 'kunlunpi.com', 'kunlunsl.com']
    .map((name) => ({ name, reason: `kunlun*.com: ${CDN}` })),
  { name: 'cloudfront.net', reason: 'Amazon CloudFront: every CloudFront customer, and distribution names can be re-assigned (SOURCES.md)' },
  { name: 'amazonaws.com', reason: 'Amazon Web Services: S3, ELB and API endpoints of countless unrelated services (SOURCES.md)' },
  { name: 'elb.amazonaws.com', reason: 'AWS load balancers: per-customer names that can be re-assigned (SOURCES.md)' },
  { name: 'cdntip.com', reason: 'CDN edge-node names shared by many customers (SOURCES.md)' },
  { name: 'cloudglb.com', reason: 'CDN edge-node names shared by many customers (SOURCES.md)' },
  { name: 'tlivecdn.com', reason: 'Tencent Cloud live-streaming CNAME suffix shared by every Tencent Cloud CSS customer (SOURCES.md)' },
  { name: 'tlivepush.com', reason: 'Tencent Cloud live-streaming CNAME suffix shared by every Tencent Cloud CSS customer; only tiktokcdn.com.tlivepush.com is listed (SOURCES.md)' },
  ...['ttdns1.com', 'ttdns2.com', 'ttdns3.com', 'ttdns4.com'].map((name) => ({ name, reason: TTDNS })),
  ...['bytefcdn-oversea.com', 'bytefcdn-ttpeu.com', 'bytetcdn.com', 'byteigtm.com', 'bpgslb.com', 'bytedns.net', 'bdgslb.com']
    .map((name) => ({ name, reason: BYTEDANCE_CDN })),
  // Analytics and SDK hosts built into countless apps.
  { name: 'app-measurement.com', reason: 'Google Analytics for Firebase endpoint used by a very large share of all mobile apps (SOURCES.md)' },
  { name: 'alog.umeng.com', reason: 'Alibaba Umeng analytics, used by many unrelated apps (SOURCES.md)' },
  { name: 'appsflyersdk.com', reason: 'AppsFlyer\'s SDK zone, built into many unrelated apps; only TikTok\'s own roovza.* hosts are listed' },
  { name: 'app.link', reason: 'Branch\'s shared deep-link zone, used by many unrelated apps; only musically(-alternate).app.link are listed' },
  // Google, Apple, Microsoft.
  { name: 'googleapis.com', reason: TELEGRAM_FALLBACK },
  { name: 'firebaseremoteconfig.googleapis.com', reason: TELEGRAM_FALLBACK },
  { name: 'firestore.googleapis.com', reason: TELEGRAM_FALLBACK },
  { name: 'google.com', reason: TELEGRAM_FALLBACK },
  { name: 'www.google.com', reason: TELEGRAM_FALLBACK },
  { name: 'googleusercontent.com', reason: 'Google\'s user-content zone (Drive, Photos, Sites, OAuth clients); nothing Telegram- or TikTok-specific to block there' },
  { name: 'apps.googleusercontent.com', reason: 'OAuth client IDs: meaningless to block, shared by every Google sign-in (SOURCES.md)' },
  { name: 'icloud.com', reason: 'iCloud itself: only the Private Relay hosts (mask.icloud.com, ...) are blocked (SOURCES.md)' },
  { name: 'www.icloud.com', reason: 'iCloud\'s web site: only the Private Relay hosts (mask.icloud.com, ...) are blocked (SOURCES.md)' },
  { name: 'apple.com', reason: 'Apple device activation, updates, push and App Store: blocking it breaks every Apple device' },
  { name: 'microsoft.com', reason: 'Windows Update, Microsoft 365 sign-in and licensing: blocking it breaks the municipality\'s own devices' },
  // DoH providers' parent organisations.
  ...['switch.ch', 'iij.jp', 'cleanbrowsing.org', 'alidns.com', 'commons.host', 'comss.ru'].map((name) => ({ name, reason: DOH_ORG })),
  // Deliberately not listed (blocklists/README.md): other products than the ones the NSM advice names.
  { name: 'bytedance.com', reason: 'ByteDance\'s corporate site, deliberately not listed (blocklists/README.md, SOURCES.md); a wider ByteDance policy must change this lint table on purpose' },
  { name: 'capcut.com', reason: 'CapCut is a separate ByteDance app not named in the NSM advice, deliberately not listed (SOURCES.md); a wider ByteDance policy must change this lint table on purpose' },
  { name: 'larksuite.com', reason: 'Lark/Feishu, ByteDance\'s office suite, not TikTok (SOURCES.md: the ttdns zones are shared with Lark)' },
  { name: 'ton.org', reason: 'TON blockchain, not the messenger: blocking it breaks crypto wallets, not Telegram (SOURCES.md)' },
  { name: 'toncenter.com', reason: 'third-party TON API, not the messenger: blocking it breaks crypto wallets, not Telegram (SOURCES.md)' },
  // Public suffixes (single labels such as "com" are already refused by the parser).
  { name: 'web.app', reason: `Firebase Hosting: ${PUBLIC_SUFFIX}; SOURCES.md dropped the h4g3z1-*.web.app canaries` },
  ...[
    'firebaseapp.com', 'appspot.com', 'github.io', 'githubusercontent.com', 'herokuapp.com', 'blogspot.com', 'azurewebsites.net',
    'cloudapp.net', 'netlify.app', 'vercel.app', 'pages.dev', 'workers.dev', 's3.amazonaws.com',
    'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'com.au', 'net.au', 'org.au', 'co.jp', 'ne.jp', 'or.jp', 'co.nz', 'co.za', 'co.kr',
    'co.in', 'co.il', 'com.br', 'com.cn', 'com.tw', 'com.hk', 'com.sg', 'com.my', 'com.tr', 'com.mx', 'priv.no', 'kommune.no',
  ].map((name) => ({ name, reason: PUBLIC_SUFFIX })),
]

/** IP ranges that must never be listed, nor covered by a wider range. */
export const COLLATERAL_RANGES: ReadonlyArray<{ readonly cidr: string; readonly reason: string }> = [
  { cidr: '91.108.0.0/16', reason: 'some lists use it for Telegram, but it is much wider than Telegram\'s published ranges (SOURCES.md)' },
]

const COLLATERAL_INDEX: ReadonlyMap<string, readonly CollateralName[]> = (() => {
  const index = new Map<string, CollateralName[]>()
  for (const c of COLLATERAL_NAMES) {
    const labels = c.name.split('.')
    for (let i = 0; i < labels.length - 1; i++) {
      const parent = labels.slice(i).join('.')
      index.set(parent, [...(index.get(parent) ?? []), c])
    }
  }
  return index
})()

/** Why listing `name` is collateral risk (it is a collateral name, or a parent of one), or null. */
export function collateralFor(name: string): string | null {
  const hits = COLLATERAL_INDEX.get(name)
  if (hits === undefined) return null
  const self = hits.find((c) => c.name === name)
  if (self !== undefined) return `${name} must never be listed: ${self.reason}`
  const below = hits.map((c) => c.name)
  return `${name} covers ${below.slice(0, 3).join(', ')}${below.length > 3 ? ` and ${below.length - 3} more` : ''}, which must never be blocked: ${hits[0].reason}`
}
