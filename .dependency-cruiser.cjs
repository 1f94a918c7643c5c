/**
 * The import boundaries of src/, checked by `npm run lint:deps` (part of `npm test`).
 *
 * - pipeline/ (the query contract) and dns/ (the wire format) are the floor:
 *   they must not import the areas built on top of them, so the contract can
 *   be read, tested and changed without the rest of the gateway.
 * - net/ (address and CIDR parsing) is a leaf: it imports nothing of ours but errors.ts.
 * - No two folders may import each other, directly or through others
 *   (a cycle between folders means neither can be understood alone).
 *
 * Type-only imports count: a type import is still a dependency of the design.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'floor-imports-upward',
      comment: 'src/pipeline/ and src/dns/ are the floor: they must not import server, lists, list-sync, list-lint, policy, cache, observability (or anything else above them).',
      severity: 'error',
      from: { path: '^src/(pipeline|dns)/' },
      to: { path: '^src/(server|lists|list-sync|list-lint|policy|cache|observability|stages|upstream|config|commands|cluster)/' },
    },
    {
      name: 'net-is-a-leaf',
      comment: 'src/net/ (address and CIDR parsing) is shared by config, dns, policy and lists; it imports nothing of ours but src/errors.ts.',
      severity: 'error',
      from: { path: '^src/net/' },
      to: { path: '^src/', pathNot: '^src/(net/|errors\\.ts$)' },
    },
    {
      name: 'no-folder-cycles',
      comment: 'Two folders of src/ import each other, directly or through other folders.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      comment: 'A module imports itself through others.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve to a file (typo, or a missing package).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-dev-dep',
      comment: 'Shipped code must not import a devDependency: it is not installed in production.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
}
