/**
 * Snapshot data (snapshot-data.ts) in bounded pieces, for handing lists from
 * the cluster primary to its workers over IPC. Sent as one message,
 * 1,000,000 names (41.6 MiB of trie arrays) is a 41.6 MiB serialised buffer
 * per worker in the primary, and in each worker the message plus the chunks
 * it was read from (measured idle after start: primary 186 MiB, each worker
 * 179 MiB). In pieces, the receiver allocates each array once at its final
 * size and copies the pieces in, and the sender holds one piece per worker
 * at a time (primary 115 MiB, workers about 150 MiB, of which about 30 MiB
 * are read buffers that the next garbage collection frees).
 */
import type { TrieData } from './domain-trie.js'
import type { SnapshotData } from './snapshot-data.js'

/** The arrays' sizes in place of the arrays; the wildcard patterns (a few, small) travel in the header as they are. */
type TrieShape = Omit<TrieData, 'nodes' | 'chars' | 'table'> & { readonly nodes: number; readonly chars: number; readonly table: number }

/** Everything but the trie arrays; sent first, so the receiver can allocate. */
export interface SnapshotHeader extends Omit<SnapshotData, 'categories' | 'allow'> {
  readonly categories: ReadonlyArray<Omit<SnapshotData['categories'][number], 'domains'> & { domains: TrieShape }>
  readonly allow: TrieShape
}

/** Bytes `offset..` of array number `array` (in tries order, then nodes, chars, table). */
export interface SnapshotPiece {
  readonly array: number
  readonly offset: number
  readonly bytes: Uint8Array
}

/** 1 MiB: 64 KiB and 16 MiB pieces measured the same; this keeps the message count low and each piece small. */
export const PIECE_BYTES = 1024 * 1024

const shape = (t: TrieData): TrieShape => ({ size: t.size, nodeCount: t.nodeCount, nodes: t.nodes.length, chars: t.chars.length, table: t.table.length, wildcards: t.wildcards })
const triesOf = <T>(d: { categories: ReadonlyArray<{ domains: T }>; allow: T }): T[] => [...d.categories.map((c) => c.domains), d.allow]

export function snapshotHeader(data: SnapshotData): SnapshotHeader {
  return { ...data, categories: data.categories.map((c) => ({ ...c, domains: shape(c.domains) })), allow: shape(data.allow) }
}

/** The pieces of `data`'s arrays, as views (nothing is copied until sent). */
export function* snapshotPieces(data: SnapshotData, pieceBytes = PIECE_BYTES): Generator<SnapshotPiece> {
  const arrays = triesOf(data).flatMap((t) => [t.nodes, t.chars, t.table])
  for (let array = 0; array < arrays.length; array++) {
    const a = arrays[array]!
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
    for (let offset = 0; offset < bytes.length; offset += pieceBytes) yield { array, offset, bytes: bytes.subarray(offset, offset + pieceBytes) }
  }
}

/** Rebuilds the data from a header and its pieces (in any order); finish() checks every byte arrived. */
export class SnapshotReceiver {
  private readonly arrays: Array<Int32Array | Uint8Array>
  private received = 0
  private readonly expected: number

  constructor(private readonly header: SnapshotHeader) {
    this.arrays = triesOf(header).flatMap((t) => [new Int32Array(t.nodes), new Uint8Array(t.chars), new Int32Array(t.table)])
    this.expected = this.arrays.reduce((n, a) => n + a.byteLength, 0)
  }

  add(piece: SnapshotPiece): void {
    const a = this.arrays[piece.array]
    if (!a || piece.offset + piece.bytes.length > a.byteLength) throw new Error(`snapshot piece out of range (array ${piece.array}, offset ${piece.offset})`)
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(piece.bytes, piece.offset)
    this.received += piece.bytes.length
  }

  finish(): SnapshotData {
    if (this.received !== this.expected) throw new Error(`snapshot incomplete: ${this.received} of ${this.expected} bytes`)
    let i = 0
    const trie = (s: TrieShape): TrieData => ({
      size: s.size,
      nodeCount: s.nodeCount,
      nodes: this.arrays[i++] as Int32Array,
      chars: this.arrays[i++] as Uint8Array,
      table: this.arrays[i++] as Int32Array,
      wildcards: s.wildcards,
    })
    const h = this.header
    return { ...h, categories: h.categories.map((c) => ({ ...c, domains: trie(c.domains) })), allow: trie(h.allow) }
  }
}
