// Browser test of the Waterline dashboard in Debian's headless Chromium, driven by
// playwright-core (no browser download). The Rust test `browser::the_dashboard_works_in_chromium`
// starts `waterline demo` and runs this script with:
//   WATERLINE_URL     the server's address (http://127.0.0.1:PORT)
//   WATERLINE_TOKEN   an admin token (for the ingest call)
//   WATERLINE_SHOTS   the folder for screenshots (CI artefacts)
// It opens every page, checks the figures shown equal the API's answer to the same query,
// applies a filter, sees a live post arrive after an ingest call, takes a screenshot of
// each page, and fails on any console error. It prints one JSON line with what it checked.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const base = process.env.WATERLINE_URL;
const token = process.env.WATERLINE_TOKEN;
const shots = process.env.WATERLINE_SHOTS || "target/browser";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
if (!base || !token) {
  console.error("WATERLINE_URL and WATERLINE_TOKEN are required");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const PAGES = [
  ["/", "overview"], ["/listening", "listening"], ["/gap", "gap"], ["/audit", "audit"],
  ["/share-of-voice", "share-of-voice"], ["/audience", "audience"], ["/responsiveness", "responsiveness"],
  ["/baselines", "baselines"], ["/alerts", "alerts"], ["/pharmacovigilance", "pharmacovigilance"],
  ["/drafts", "drafts"], ["/posts", "posts"], ["/metrics", "definitions"],
];

const problems = [];
const consoleErrors = [];
function fail(message) { problems.push(message); }

async function apiValue(figure) {
  const response = await fetch(base + "/api/v1/query", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: figure.query,
  });
  if (!response.ok) { fail(`query ${figure.query} answered ${response.status}`); return undefined; }
  const answer = await response.json();
  const keys = figure.row ? JSON.parse(figure.row) : null;
  const row = answer.rows.find((r) => !keys || Object.entries(keys).every(([k, v]) => r[k] === v));
  return row ? row[figure.metric] : null;
}

async function checkFigures(page, name) {
  const figures = await page.$$eval("[data-query]", (nodes) => nodes.map((n) => ({
    metric: n.dataset.metric, query: n.dataset.query, row: n.dataset.row || null,
    value: n.dataset.value, shown: n.textContent,
  })));
  let checked = 0;
  for (const figure of figures) {
    const api = await apiValue(figure);
    const shown = figure.value === "null" ? null : Number(figure.value);
    const same = (api === null && shown === null) ||
      (api !== null && shown !== null && Math.abs(api - shown) <= 1e-9 * Math.max(1, Math.abs(api)));
    if (!same) fail(`${name}: ${figure.metric} shows ${figure.value} (${figure.shown}) but the API says ${api}`);
    checked += 1;
  }
  return checked;
}

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
// CI runs this beside the other tests on two cores with a debug build: be patient.
page.setDefaultTimeout(120000);
page.on("console", (message) => {
  if (message.type() === "error") consoleErrors.push(`${page.url()}: ${message.text()}`);
});
page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: ${error.message}`));

let figures = 0;
const timings = {};
for (const [path, name] of PAGES) {
  const started = Date.now();
  const response = await page.goto(base + path, { waitUntil: "load", timeout: 120000 });
  timings[name] = Date.now() - started;
  if (!response || response.status() !== 200) fail(`${path} answered ${response && response.status()}`);
  const title = await page.textContent("main h1");
  if (!title) fail(`${path} has no title`);
  const links = await page.$$eval("nav.pages a", (nodes) => nodes.length);
  if (links !== PAGES.length) fail(`${path} links ${links} pages, not ${PAGES.length}`);
  figures += await checkFigures(page, name);
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

// A definition is one click away.
await page.goto(base + "/", { waitUntil: "load" });
await page.click(".figure a.label[href='/metrics#mentions']");
await page.waitForURL(/\/metrics#mentions$/);
if (!(await page.isVisible("dt#mentions"))) fail("the definition of mentions is not shown");

// A number opens the posts behind it: as many as it counts.
await page.goto(base + "/", { waitUntil: "load" });
const own = await page.$eval("[data-metric='posts']", (n) => n.dataset.value);
await Promise.all([page.waitForURL(/\/posts\?/), page.click("[data-metric='posts'] a.posts-link")]);
const listed = await page.$eval("p.count", (n) => n.textContent.split(" ")[0].replaceAll(",", ""));
if (Number(listed) !== Number(own)) fail(`the posts figure shows ${own} but its post list has ${listed}`);
if ((await page.$$("table tbody tr")).length === 0 && Number(own) > 0) fail("the post list behind a number is empty");

// A filter: choose a platform, apply, and the figures follow (and still equal the API).
await page.goto(base + "/", { waitUntil: "load" });
const before = await page.$eval("[data-metric='mentions']", (n) => n.dataset.value);
await page.selectOption("form.filters select[name=platform]", "x");
await Promise.all([page.waitForURL(/platform=x/), page.click("form.filters button[type=submit]")]);
const after = await page.$eval("[data-metric='mentions']", (n) => n.dataset.value);
if (before === after) fail(`the platform filter did not change mentions (${before})`);
const filtered = await page.$$eval("[data-query]", (nodes) => nodes.map((n) => n.dataset.query));
if (!filtered.every((q) => q.includes('"platform"'))) fail("a figure ignores the platform filter");
figures += await checkFigures(page, "overview filtered");
await page.screenshot({ path: `${shots}/overview-filtered.png`, fullPage: true });

// Live: an ingested post appears without reloading the page.
await page.goto(base + "/", { waitUntil: "load" });
await page.waitForSelector("#live.connected", { timeout: 30000 });
await page.evaluate(() => { window.__notReloaded = true; });
const marker = `Browser live check ${Date.now()}: is Cardivex safe with grapefruit?`;
const line = JSON.stringify({
  platform: "bluesky", id: `browser-${Date.now()}`, author_handle: "live.tester.bsky.social",
  created_at: "2026-10-31T23:59:59Z", text: marker,
});
const ingestStarted = Date.now();
const ingest = await fetch(base + "/api/v1/ingest", {
  method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/x-ndjson" }, body: line + "\n",
});
if (!ingest.ok) fail(`ingest answered ${ingest.status}: ${await ingest.text()}`);
let liveMs = null;
try {
  await page.waitForSelector(`text=${marker}`, { timeout: 60000 });
  liveMs = Date.now() - ingestStarted;
} catch (error) {
  fail(`the ingested post did not appear live: ${error.message}`);
}
if (!(await page.evaluate(() => window.__notReloaded === true))) fail("the page reloaded instead of updating live");
await page.screenshot({ path: `${shots}/overview-live.png`, fullPage: true });

// Live alert: an ingested post reporting an adverse reaction opens a PV case, and its alert
// shows on the open page as a banner (over the same event stream), then on /alerts with
// its actions; acknowledging it records who.
const aeLine = JSON.stringify({
  platform: "bluesky", id: `browser-ae-${Date.now()}`, author_handle: "patient.tester.bsky.social",
  created_at: "2026-10-31T23:59:59Z", text: "Started Cardivex last week and now I have terrible dizziness and a rash all over",
});
const aeIngest = await fetch(base + "/api/v1/ingest", {
  method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/x-ndjson" }, body: aeLine + "\n",
});
if (!aeIngest.ok) fail(`ingest answered ${aeIngest.status}: ${await aeIngest.text()}`);
let alertId = null;
try {
  await page.waitForSelector("#live-alert a", { timeout: 60000 });
  alertId = await page.getAttribute("#live-alert", "data-alert");
} catch (error) {
  fail(`the alert of an ingested adverse-event post did not show live: ${error.message}`);
}
if (alertId) {
  await page.goto(base + "/alerts", { waitUntil: "load" });
  if (!(await page.$(`#alert-${alertId}`))) fail("the alert is not on /alerts");
}

// Draft check: write a draft in the form, check it, read the status and the findings.
await page.goto(base + "/drafts", { waitUntil: "load" });
await page.fill("form.draft textarea[name=text]", "Cardivex is safe for everyone, ask your doctor for Cardivex!");
await page.fill("form.draft input[name=countries]", "GB");
await page.selectOption("form.draft select[name=audience]", "public");
await Promise.all([page.waitForURL(/text=/), page.click("form.draft button")]);
const draftStatus = await page.getAttribute("#draft-status", "data-status");
if (draftStatus !== "BLOCK") fail(`the draft check says ${draftStatus}, not BLOCK`);
const draftRules = await page.textContent("main");
if (!draftRules.includes("C-08") || !draftRules.includes("C-01")) fail("the draft findings lack C-01 or C-08");
await page.screenshot({ path: `${shots}/drafts-checked.png`, fullPage: true });

// Pharmacovigilance: the queue needs a PV role; log in with the token, open a case and
// assign it through the page's form; the page reloads with the case as it now stands.
await page.goto(base + "/pharmacovigilance", { waitUntil: "load" });
if (!(await page.isVisible("#pv-forbidden"))) fail("the anonymous reader sees the PV queue");
await page.goto(base + "/login", { waitUntil: "load" });
await page.fill("#login input[name=token]", token);
await Promise.all([page.waitForURL(base + "/"), page.click("#login button")]);
await page.goto(base + "/pharmacovigilance", { waitUntil: "load" });
// A case with an adverse-event flag (its fourth cell lists the flags).
const caseId = await page.$$eval("table tr[data-case]", (rows) => {
  const row = rows.find((r) => r.cells[3] && r.cells[3].textContent.split(" ").includes("AE"));
  return row ? row.dataset.case : null;
});
if (!caseId) {
  fail("the demo's adverse-event queue has no AE case");
} else {
  await Promise.all([page.waitForURL(/case=pv-/), page.click(`tr[data-case='${caseId}'] a`)]);
  if (!(await page.isVisible("section.case mark"))) fail("the case shows no evidence span");
  await page.fill("form.pv-action input[name=to]", "browser reviewer");
  await Promise.all([
    page.waitForEvent("load"),
    page.click("form.pv-action:has(input[name=to]) button"),
  ]);
  const history = await page.textContent("section.case");
  if (!history.includes("assigned") || !history.includes("browser reviewer")) fail("the assignment is not in the case's history");
  await page.screenshot({ path: `${shots}/pharmacovigilance-case.png`, fullPage: true });
}

// Logged in: acknowledge the live alert from its card; the API then says who.
if (alertId) {
  await page.goto(base + "/alerts", { waitUntil: "load" });
  const card = `#alert-${alertId}`;
  if (await page.$(`${card} form[data-action=acknowledge]`)) {
    await Promise.all([page.waitForEvent("load"), page.click(`${card} form[data-action=acknowledge] button`)]);
    const shown = await (await fetch(`${base}/api/v1/alerts/${alertId}`)).json();
    if (shown.status !== "acknowledged" || !shown.acknowledged_by) fail(`acknowledging from the page left the alert ${JSON.stringify(shown)}`);
    await page.screenshot({ path: `${shots}/alerts-acknowledged.png`, fullPage: true });
  } else {
    fail("the live alert's card has no acknowledge form");
  }
}

// A view exported as one file opens offline (no script, no stylesheet link).
const exported = await (await fetch(base + "/gap?export=html")).text();
if (exported.includes("<script") || exported.includes("/assets/")) fail("the HTML export is not self-contained");

await browser.close();
for (const error of consoleErrors) fail(`console error: ${error}`);
console.log(JSON.stringify({ pages: PAGES.length, figures, live_ms: liveMs, load_ms: timings, problems }));
process.exit(problems.length === 0 ? 0 : 1);
