// Lighthouse (mobile preset) of one signed-in page: the session's cookies are put in
// the browser's own cookie jar first (as a browser that signed in has them), so every
// request the page makes carries them, beacons included. Used by bench/lighthouse.py.
//   node run.mjs <url> <chromium path> <cookies as JSON {name: value}> <report path>
import fs from "node:fs";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import puppeteer from "puppeteer-core";

const [url, chromePath, cookiesJson, out] = process.argv.slice(2);
const chrome = await chromeLauncher.launch({
  chromePath,
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
try {
  const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${chrome.port}` });
  const origin = new URL(url);
  const cookies = Object.entries(JSON.parse(cookiesJson)).map(([name, value]) => ({
    name, value, domain: origin.hostname, path: "/",
  }));
  await browser.setCookie(...cookies);
  const result = await lighthouse(url, {
    port: chrome.port,
    output: "json",
    logLevel: "error",
    onlyCategories: ["performance", "accessibility", "best-practices", "seo"],
  });
  fs.writeFileSync(out, result.report);
  await browser.disconnect();
} finally {
  await chrome.kill();
}
