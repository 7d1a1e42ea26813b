/**
 * The demo page in headless Chromium: two tabs in one room, in each transport
 * mode, the browser build of socket.io-client on both ends.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "./support/worker";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser test skipped: no Chromium at ${CHROMIUM} (.ci/run installs it)`);

describe.skipIf(!hasChromium)("demo page in a browser", () => {
  let worker: RunningWorker;
  let browser: Browser;
  beforeAll(async () => {
    worker = await startWorker();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
  });

  it.each([
    ["polling,websocket", "websocket"],
    ["websocket", "websocket"],
    ["polling", "polling"],
  ])("relays between two tabs with transports %s", async (transports, finalTransport) => {
    const context = await browser.newContext();
    const room = `browser-${transports.replace(",", "-")}-${Date.now()}`;
    const [a, b] = [await context.newPage(), await context.newPage()];
    for (const page of [a, b]) {
      await page.goto(worker.url + "/");
      await page.fill("input[name=room]", room);
      await page.selectOption("select[name=transports]", transports);
      await page.click("#join button");
      await page.waitForFunction(
        (t) => document.getElementById("status")!.textContent!.endsWith("over " + t),
        finalTransport,
        { timeout: 10_000 },
      );
    }
    await a.fill("input[name=text]", "hello from tab a");
    await a.click("#send button");
    await b.waitForFunction(() => document.getElementById("log")!.textContent!.includes("hello from tab a"), null, { timeout: 5000 });
    await a.waitForFunction(() => document.getElementById("log")!.textContent!.includes("delivered to 1"), null, { timeout: 5000 });
    expect(await b.textContent("#log")).toContain(": hello from tab a");
    await context.close();
  });
});
