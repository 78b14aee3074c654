// Bundles the declarations for publishing: the types this package takes from the private
// workspace packages (@conveyor/contracts, the kinds' contracts, @conveyor/webhooks) are inlined,
// so the published .d.ts needs none of them. Only zod stays imported (z.input of the csv-sum
// contract), hence zod in dependencies. The JS needs no bundling: it imports those packages for
// types only, which TypeScript erases.
import { dts } from 'rollup-plugin-dts';

export default ['index', 'node/index'].map((entry) => ({
  input: `dist/${entry}.d.ts`,
  output: { file: `dist/types/${entry}.d.ts`, format: 'es' },
  // Only the workspace's own packages are inlined (and, of them, only the declarations used).
  external: (id) => !id.startsWith('@conveyor/') && !id.startsWith('.') && !id.startsWith('/'),
  plugins: [dts({ respectExternal: true, tsconfig: 'tsconfig.json' })],
}));
