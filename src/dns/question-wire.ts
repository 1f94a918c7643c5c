/**
 * Questions dnsvakt writes itself (explain's --resolve lookups) and the name
 * encoding they share with the SOA of block answers: text to wire labels,
 * and a record type's mnemonic (A, HTTPS, TYPE65) to its number.
 */
import { CLASS_IN, FLAG, HEADER_LENGTH, TYPE } from './constants.js'

/** A dotted name as uncompressed wire labels; throws for an empty label inside, a label over 63 or a name over 255 octets. */
export function encodeName(name: string): Buffer {
  const text = name.endsWith('.') ? name.slice(0, -1) : name
  const parts: Buffer[] = []
  for (const l of text === '' ? [] : text.split('.')) {
    const bytes = Buffer.from(l, 'latin1')
    if (bytes.length === 0) throw new Error(`empty label in "${name}"`)
    if (bytes.length > 63) throw new Error(`label longer than 63 octets in "${name}"`)
    parts.push(Buffer.from([bytes.length]), bytes)
  }
  const out = Buffer.concat([...parts, Buffer.from([0])])
  if (out.length > 255) throw new Error(`name longer than 255 octets: "${name}"`)
  return out
}

/** The number of a record type written as its mnemonic ("AAAA") or RFC 3597 form ("TYPE65"); null if unknown. */
export function typeCode(text: string): number | null {
  const t = text.toUpperCase()
  if (Object.hasOwn(TYPE, t)) return TYPE[t as keyof typeof TYPE]
  const m = /^TYPE([1-9][0-9]{0,4})$/.exec(t)
  return m !== null && Number(m[1]) <= 0xffff ? Number(m[1]) : null
}

/** A standard query (RD set, no OPT) for `name` and `qtype`, class IN. */
export function questionWire(name: string, qtype: number, id = 0): Buffer {
  const qname = encodeName(name)
  const out = Buffer.alloc(HEADER_LENGTH + qname.length + 4)
  out.writeUInt16BE(id, 0)
  out.writeUInt16BE(FLAG.RD, 2)
  out.writeUInt16BE(1, 4)
  qname.copy(out, HEADER_LENGTH)
  out.writeUInt16BE(qtype, HEADER_LENGTH + qname.length)
  out.writeUInt16BE(CLASS_IN, HEADER_LENGTH + qname.length + 2)
  return out
}
