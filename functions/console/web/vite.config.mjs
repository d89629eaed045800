// The staff console (后台管理系统): Vue 3 + Element Plus, built to
// dist/console/ so that a Workers Static Assets directory `dist` serves it at
// /console/. Build from the repository root:
//   node_modules/.bin/vite build --config functions/console/web/vite.config.mjs
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";
import AutoImport from "unplugin-auto-import/vite";
import Components from "unplugin-vue-components/vite";
import { ElementPlusResolver } from "unplugin-vue-components/resolvers";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  base: "/console/",
  plugins: [
    vue(),
    // On-demand Element Plus: only the components (and their CSS) the pages use.
    AutoImport({ resolvers: [ElementPlusResolver()], dts: false }),
    Components({ resolvers: [ElementPlusResolver()], dts: false }),
  ],
  build: {
    outDir: fileURLToPath(new URL("./dist/console/", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2020",
    // The one chunk over Vite's 500 kB warning is ECharts (Chart.vue, about 190 KB gzip), loaded
    // only by the statistics pages; the initial bundle has its own budget (README).
    chunkSizeWarningLimit: 600,
  },
});
