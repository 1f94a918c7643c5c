/**
 * Client networks (access.allow, groups, exemptions) as a node:net BlockList,
 * parsed by the same strict parser as the list files (cidr.ts), so a
 * typo such as "10.0.0.1/" is an error, never a silent /0 that matches
 * every client.
 */
import { BlockList } from 'node:net'
import { parseCidr } from './cidr.js'

/** Adds `cidr` (or a bare address: one host) to `list`; returns its prefix length, or -1 if it is not valid. */
export function addNetwork(list: BlockList, cidr: string): number {
  const parsed = parseCidr(cidr.trim())
  if (parsed === null) return -1
  const address = cidr.trim().split('/')[0]
  list.addSubnet(address, parsed.prefix, parsed.family === 4 ? 'ipv4' : 'ipv6')
  return parsed.prefix
}

export const isNetwork = (cidr: string): boolean => parseCidr(cidr.trim()) !== null
