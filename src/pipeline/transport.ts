/** The DNS transports we listen on: plain UDP and TCP, DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484). */
export const TRANSPORTS = ['udp', 'tcp', 'dot', 'doh'] as const
export type Transport = (typeof TRANSPORTS)[number]
