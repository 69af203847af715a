import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// No CDN, no inline scripts (the CSP is script-src 'self'), no source maps shipped.
export default defineConfig({
  plugins: [react()],
  build: {
    target: 'es2022',
    modulePreload: { polyfill: false },
    sourcemap: false,
    assetsInlineLimit: 0,
  },
});
