/**
 * kiln's layers, written down once and checked by `npm run deps` (part of `npm test`):
 * ir/ imports nothing of ours; compiler/ imports ir/; runtime/ runs what compiler/ made; client/
 * and server/ sit on top; cli/, bench/ and examples/ on those. No import circles anywhere.
 */
const layer = (from, allowed) => ({
  name: `${from}-layer`,
  comment: `${from}/ may import only ${allowed.length ? allowed.join('/, ') + '/' : 'nothing of ours'} (and node_modules)`,
  severity: 'error',
  from: { path: `^${from}/` },
  to: { path: '^(ir|compiler|runtime|client|server|cli|bench|examples)/', pathNot: `^(${[from, ...allowed].join('|')})/` },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'import circles make layers meaningless', from: {}, to: { circular: true } },
    layer('ir', []),
    layer('compiler', ['ir']),
    layer('runtime', ['ir', 'compiler']),
    layer('client', ['ir', 'compiler', 'runtime']),
    layer('server', ['ir', 'compiler', 'runtime', 'client']),
    layer('cli', ['ir', 'compiler', 'runtime', 'client', 'server', 'bench']),
    layer('bench', ['ir', 'compiler', 'runtime', 'client']),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test|\\.device)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
