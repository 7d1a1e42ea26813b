/**
 * The demo page (the live room view at /) in headless Chromium: three pages in
 * one room in each transport mode, and one with a page per mode; the browser
 * build of socket.io-client on every end.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "./support/worker";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser test skipped: no Chromium at ${CHROMIUM} (.ci/run installs it)`);

const FINAL_TRANSPORT: Record<string, string> = { "polling,websocket": "websocket", websocket: "websocket", polling: "polling" };

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

  /** A page of its own browser context, checked in its state before joining, then joined. */
  async function joinAs(name: string, room: string, transports: string, viewport = { width: 1366, height: 800 }): Promise<Page> {
    const page = await (await browser.newContext({ viewport })).newPage();
    await page.goto(worker.url + "/");
    expect(await page.textContent("#status")).toBe("not connected");
    expect(await page.isVisible("#members-empty")).toBe(true);
    expect(await page.isVisible("#stats-body")).toBe(false);
    expect(await page.isDisabled("#send input[name=text]")).toBe(true);
    await page.fill("input[name=name]", name);
    await page.fill("input[name=room]", room);
    await page.selectOption("select[name=transports]", transports);
    await page.click("#join-button");
    await page.waitForFunction((t) => document.getElementById("status")!.textContent === "connected over " + t, FINAL_TRANSPORT[transports], { timeout: 10_000 });
    return page;
  }

  /** The member list a page shows: "name transport" per member, in its order. */
  const membersOf = (page: Page) =>
    page.$$eval("#members li", (items) => items.map((li) => `${li.querySelector(".name")!.firstChild!.textContent} ${(li as HTMLElement).dataset.transport}`));

  async function waitForMembers(page: Page, expected: string[]): Promise<void> {
    await page.waitForFunction(
      (want) => [...document.querySelectorAll("#members li")].map((li) => `${li.querySelector(".name")!.firstChild!.textContent} ${(li as HTMLElement).dataset.transport}`).join("|") === want.join("|"),
      expected,
      { timeout: 10_000 },
    ).catch(async (error) => {
      throw new Error(`members ${JSON.stringify(await membersOf(page))}, expected ${JSON.stringify(expected)}: ${error.message}`);
    });
  }

  const logOf = (page: Page) => page.textContent("#log");
  const waitForLog = (page: Page, text: string) =>
    page.waitForFunction((t) => document.getElementById("log")!.textContent!.includes(t), text, { timeout: 5000 });

  it.each(Object.keys(FINAL_TRANSPORT))("shows three members, their messages and the room's stats with transports %s", async (transports) => {
    const room = `browser-${transports.replace(",", "-")}-${Date.now()}`;
    const final = FINAL_TRANSPORT[transports];
    const ada = await joinAs("Ada", room, transports);
    const grace = await joinAs("Grace", room, transports);
    const linus = await joinAs("Linus", room, transports);
    const everyone = [`Ada ${final}`, `Grace ${final}`, `Linus ${final}`];
    for (const page of [ada, grace, linus]) await waitForMembers(page, everyone);
    expect(await ada.textContent("#member-count")).toBe("3");
    expect(await linus.textContent("#members li:last-child .me")).toBe("(you)");
    // Joins as they happen, in the log of who was there first.
    await waitForLog(ada, "Linus joined over");

    await ada.fill("input[name=text]", "hello from Ada");
    await ada.click("#send button");
    for (const page of [grace, linus]) await waitForLog(page, "hello from Ada");
    await waitForLog(ada, "delivered to 2");
    expect(await logOf(grace)).toContain("Adahello from Ada");

    // The room's stats, from the room itself (asked every 2 s).
    await ada.waitForFunction(() => Number(document.getElementById("s-in")!.textContent!.replace(/,/g, "")) > 0, null, { timeout: 6000 });
    await ada.waitForFunction(() => document.getElementById("s-connections")!.textContent === "3", null, { timeout: 6000 });
    // The report is at most a second old (shared by the room's viewers): the last upgrade may show in the next one.
    const transportsShown = final === "websocket" ? "3 websocket · 0 polling" : "0 websocket · 3 polling";
    await ada.waitForFunction((t) => document.getElementById("s-transports")!.textContent === t, transportsShown, { timeout: 6000 });
    expect(await ada.textContent("#s-error-count")).toBe("0");

    // A leave as it happens.
    await linus.click("#leave");
    for (const page of [ada, grace]) {
      await waitForMembers(page, [`Ada ${final}`, `Grace ${final}`]);
      await waitForLog(page, "Linus left (client namespace disconnect)");
    }
    expect(await linus.isVisible("#join")).toBe(true);
    expect(await linus.textContent("#status")).toBe("not connected");
    for (const page of [ada, grace, linus]) await page.context().close();
  }, 60_000);

  it("shows each member's own transport when they differ, on a phone-width page too", async () => {
    const room = `browser-mixed-${Date.now()}-with-a-long-name`;
    const pages = [
      await joinAs("Ada", room, "polling,websocket"),
      await joinAs("Grace", room, "websocket"),
      await joinAs("Linus", room, "polling", { width: 390, height: 844 }),
    ];
    for (const page of pages) await waitForMembers(page, ["Ada websocket", "Grace websocket", "Linus polling"]);
    await pages[2].fill("input[name=text]", "polling says hi");
    await pages[2].click("#send button");
    for (const page of pages.slice(0, 2)) await waitForLog(page, "polling says hi");
    await pages[0].waitForFunction(() => document.getElementById("s-transports")!.textContent === "2 websocket · 1 polling", null, { timeout: 6000 });
    // Nothing wider than the phone's screen: no sideways scrolling.
    await pages[2].waitForSelector("#stats-body:not([hidden])");
    expect(await pages[2].evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    for (const page of pages) await page.context().close();
  }, 60_000);
});
