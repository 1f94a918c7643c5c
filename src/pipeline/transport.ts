/** The two DNS transports we listen on. */
export type Transport = 'udp' | 'tcp'
