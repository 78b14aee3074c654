import { defineConfig } from 'vite';

// Served by the producer under /ui; everything is bundled (no CDN, no web fonts), so the
// dashboard works on a machine with no way out. esbuild compiles the JSX for Preact, which
// spares the Babel-based preset.
export default defineConfig({
  base: '/ui/',
  root: import.meta.dirname,
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist/ui',
    emptyOutDir: true,
    target: 'es2022',
    // Hashed file names: the producer serves /ui/assets/* as immutable.
    assetsDir: 'assets',
    chunkSizeWarningLimit: 400,
    rollupOptions: {
      // zod places some /* @__PURE__ */ comments where Rollup cannot use them; harmless noise.
      onwarn(warning, warn) {
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/node_modules/')) return;
        warn(warning);
      },
    },
  },
  logLevel: 'warn',
});
