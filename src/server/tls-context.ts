/**
 * The certificate and key of the DoT/DoH listeners, read from files and
 * re-read when they change (certbot, an ACME client or an operator replacing
 * them), without a restart: every `intervalMs` the files' size and mtime are
 * compared, and on a change the pair is loaded, checked (a certificate and a
 * key that do not belong together are refused) and handed to every listener
 * with setSecureContext. A bad pair mid-rotation is reported and the last
 * good one keeps serving; existing connections keep theirs.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import { DnsvaktError } from '../errors.js'

export interface TlsPair {
  readonly cert: Buffer
  readonly key: Buffer
  /** The leaf certificate, for names, addresses and expiry. */
  readonly leaf: X509Certificate
}

/** Something that can take a new certificate: tls.Server and http2.Http2SecureServer both can. */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void
}

export interface TlsMaterialEvents {
  onReload?(pair: TlsPair): void
  onReloadFailed?(error: Error): void
}

/** Reads and checks a pair. Throws DNSVAKT_ERR_CONFIG naming the file. */
export function readTlsPair(certFile: string, keyFile: string): TlsPair {
  let cert: Buffer, key: Buffer
  try {
    cert = readFileSync(certFile)
    key = readFileSync(keyFile)
  } catch (cause) {
    throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `tls: cannot read ${(cause as NodeJS.ErrnoException).path ?? certFile}: ${(cause as Error).message}`, { cause })
  }
  try {
    const leaf = new X509Certificate(cert)
    if (!leaf.checkPrivateKey(createPrivateKey(key))) throw new Error(`the key in ${keyFile} does not belong to the certificate in ${certFile}`)
    createSecureContext({ cert, key })
    return { cert, key, leaf }
  } catch (cause) {
    throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `tls: ${(cause as Error).message}`, { cause })
  }
}

const stamp = (file: string): string => {
  try {
    const s = statSync(file)
    return `${s.size}:${s.mtimeMs}:${s.ino}`
  } catch {
    return 'missing'
  }
}

export class TlsMaterial {
  private readonly targets = new Set<SecureContextTarget>()
  private timer: NodeJS.Timeout | undefined
  private stamps: string

  private constructor(
    private readonly certFile: string,
    private readonly keyFile: string,
    private current: TlsPair,
    private readonly events: TlsMaterialEvents,
  ) {
    this.stamps = this.fileStamps()
  }

  /** Loads the pair now (start-up fails on a bad one) and checks the files every `intervalMs`. */
  static open(certFile: string, keyFile: string, intervalMs: number, events: TlsMaterialEvents = {}): TlsMaterial {
    const m = new TlsMaterial(certFile, keyFile, readTlsPair(certFile, keyFile), events)
    m.timer = setInterval(() => m.check(), intervalMs)
    m.timer.unref()
    return m
  }

  get pair(): TlsPair {
    return this.current
  }

  /** A listener to update on every reload. */
  add(target: SecureContextTarget): void {
    this.targets.add(target)
  }

  /** Compares the files with what was loaded; reloads when either changed. */
  check(): boolean {
    const now = this.fileStamps()
    if (now === this.stamps) return false
    this.stamps = now
    try {
      this.current = readTlsPair(this.certFile, this.keyFile)
    } catch (e) {
      // Mid-rotation (new certificate, old key) or a broken file: keep the last good pair.
      this.events.onReloadFailed?.(e as Error)
      return false
    }
    for (const t of this.targets) t.setSecureContext({ cert: this.current.cert, key: this.current.key })
    this.events.onReload?.(this.current)
    return true
  }

  close(): void {
    clearInterval(this.timer)
    this.targets.clear()
  }

  private fileStamps(): string {
    return `${stamp(this.certFile)}|${stamp(this.keyFile)}`
  }
}
