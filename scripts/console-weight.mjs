// The console's weight, for scripts/bench and the budget test: what a first
// visit downloads before the sign-in page shows (the entry script, its
// stylesheet and every modulepreload in index.html, gzip level 9 as served
// compressed), and the first load measured in Debian's Chromium.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT } from "./runtime.mjs";

/** The initial budget (gzip bytes of JS + CSS), stated in the README. */
export const INITIAL_BUDGET = 150 * 1024;

/** `{ files: [{ file, bytes, gzip }], js, css }` of the built console's initial download. */
export function initialBundle(dist = process.env.BM_ASSETS_DIR || join(ROOT, "functions", "console", "web", "dist")) {
  const dir = join(dist, "console");
  const html = readFileSync(join(dir, "index.html"), "utf8");
  const refs = [...html.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  const files = [...new Set(refs)].map((file) => {
    const body = readFileSync(join(dir, file));
    return { file, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
  });
  const sum = (ext) => files.filter((f) => f.file.endsWith(ext)).reduce((n, f) => n + f.gzip, 0);
  return { files, js: sum(".js"), css: sum(".css") };
}

/**
 * The console's first load in a fresh browser context (empty cache), `runs` times: ms until the
 * sign-in form is on screen, and the navigation's load event. Returns the sorted samples.
 */
export async function firstLoad(url, runs = 5) {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium" });
  const shown = [], loaded = [];
  try {
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ locale: "zh-CN" });
      const page = await context.newPage();
      const t0 = Date.now();
      await page.goto(`${url}/console/#/login`);
      await page.waitForSelector("#login-username", { state: "visible" });
      shown.push(Date.now() - t0);
      loaded.push(await page.evaluate(() => performance.getEntriesByType("navigation")[0]?.loadEventEnd ?? NaN));
      await context.close();
    }
  } finally {
    await browser.close();
  }
  const sorted = (a) => a.sort((x, y) => x - y);
  return { shown: sorted(shown), loaded: sorted(loaded) };
}
