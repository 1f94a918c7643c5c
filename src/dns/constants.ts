/** DNS wire constants (RFC 1035, 2308, 6891, 8914). Numbers, so the hot path compares integers. */

export const HEADER_LENGTH = 12

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended rcode 16 (RFC 6891 s6.1.3): upper 8 bits travel in the OPT TTL. */
  BADVERS: 16,
} as const

export const OPCODE_QUERY = 0

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DNAME: 39,
  DS: 43,
  OPT: 41,
  RRSIG: 46,
  DNSKEY: 48,
  SVCB: 64,
  HTTPS: 65,
  AXFR: 252,
  IXFR: 251,
  ANY: 255,
} as const

export const CLASS_IN = 1

/** Header flag bits, in the 16-bit flags word (bytes 2-3). */
export const FLAG = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const

/** EDNS0 DO bit in the OPT record's TTL field (RFC 3225). */
export const EDNS_DO = 0x8000

/** RFC 8914 Extended DNS Error option code and the info codes we send. */
export const EDNS_OPTION_EDE = 15
export const EDE = {
  STALE_ANSWER: 3,
  BLOCKED: 15,
  PROHIBITED: 18,
  NOT_READY: 14,
  NO_REACHABLE_AUTHORITY: 22,
} as const

/** Plain-DNS UDP limit without EDNS (RFC 1035 s4.2.1). */
export const UDP_SIZE_NO_EDNS = 512
/** The EDNS buffer size we advertise and cap at: the DNS Flag Day 2020 value, avoids IP fragmentation. */
export const UDP_SIZE_ADVERTISED = 1232
