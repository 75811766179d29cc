#!/usr/bin/env node
// The browser side of bench/ui-bench.sh: loads one page in Debian's headless Chromium with a session cookie and
// measures the load, then opening and closing the biggest folded log section of a build page.
//   node bench/ui_browser.js URL COOKIE_NAME COOKIE_VALUE [RUNS] [RESULTS.jsonl] [CHROMIUM_LOG]
// No npm package: Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: requests on
// fd 3, answers on fd 4, each message JSON ending in a NUL byte). One browser, one tab; every run navigates the tab
// to about:blank and then to URL (Cache-Control: no-store on pages: the HTML is fetched each time; the immutable
// assets come from the browser's cache after the warm-up load, as for a returning user).
// Per run it records (ms from the navigation's start, Navigation Timing): responseStart (first byte), responseEnd
// (the whole HTML received), domInteractive (parsed), domContentLoadedEventEnd, loadEventEnd, first contentful paint,
// "ready" (the first frame after load: requestAnimationFrame then a task), the longest main-thread task during the
// load (PerformanceObserver longtask, installed before the page's own scripts), and the wall time from the
// navigate command to the load event. Then, in the loaded page: a click on the summary of the folded section with
// the most lines, timed to the end of the forced layout (offsetHeight) and to the next frame (two
// requestAnimationFrame callbacks), and the same for closing it again. Performance.getMetrics gives the DOM node count
// and JS heap.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [url, cookieName, cookieValue, runsArg, resultsFile, chromiumLog] = process.argv.slice(2);
if (!url || !cookieName || !cookieValue) {
  console.error('usage: ui_browser.js URL COOKIE_NAME COOKIE_VALUE [RUNS] [RESULTS.jsonl] [CHROMIUM_LOG]');
  process.exit(2);
}
const runs = Number(runsArg || 5);
const timeoutMs = 180000;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ui-bench-chromium-'));
const logFd = fs.openSync(chromiumLog || '/dev/null', 'a');
const chromium = spawn(process.env.CHROMIUM || 'chromium', [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe', `--user-data-dir=${profile}`,
  '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--window-size=1280,900', 'about:blank',
], { stdio: ['ignore', logFd, logFd, 'pipe', 'pipe'] });
const toBrowser = chromium.stdio[3];
const fromBrowser = chromium.stdio[4];

let nextId = 0;
const pending = new Map();
const listeners = new Set();
let buffered = Buffer.alloc(0);
fromBrowser.on('data', (data) => {
  buffered = Buffer.concat([buffered, data]);
  let end;
  while ((end = buffered.indexOf(0)) >= 0) {
    const message = JSON.parse(buffered.subarray(0, end).toString('utf8'));
    buffered = buffered.subarray(end + 1);
    if (message.id !== undefined && pending.has(message.id)) {
      const { resolve, reject, method } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
      else resolve(message.result);
    } else {
      for (const listener of [...listeners]) listener(message);
    }
  }
});

function send(method, params = {}, sessionId = undefined) {
  const id = ++nextId;
  toBrowser.write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  return withTimeout(new Promise((resolve, reject) => pending.set(id, { resolve, reject, method })), method);
}

function nextEvent(method, sessionId) {
  return withTimeout(new Promise((resolve) => {
    const listener = (message) => {
      if (message.method === method && message.sessionId === sessionId) {
        listeners.delete(listener);
        resolve(message.params);
      }
    };
    listeners.add(listener);
  }), method);
}

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), timeoutMs); }),
  ]).finally(() => clearTimeout(timer));
}

async function evaluate(expression, sessionId) {
  const { result, exceptionDetails } = await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
  if (exceptionDetails) throw new Error(`page script failed: ${JSON.stringify(exceptionDetails)}`);
  return result.value;
}

// Installed before any of the page's scripts: collects long tasks (over 50 ms) from the start of the load.
const LONG_TASKS = `
  window.__benchLongTasks = [];
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__benchLongTasks.push(e.duration); })
      .observe({ type: 'longtask' });
  } catch (e) { window.__benchLongTasks = null; }`;

const TIMINGS = `new Promise((done) => requestAnimationFrame(() => setTimeout(() => {
  const n = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const tasks = window.__benchLongTasks;
  done({
    ready: performance.now(),
    responseStart: n.responseStart, responseEnd: n.responseEnd, domInteractive: n.domInteractive,
    domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd, fcp: fcp ? fcp.startTime : null,
    longestTask: tasks ? Math.max(0, ...tasks) : null, longTasks: tasks ? tasks.map(Math.round) : null,
    transferBytes: n.transferSize, htmlBytes: n.decodedBodySize,
    title: document.title, lines: document.querySelectorAll('.log-lines > li').length,
    sections: document.querySelectorAll('details.log-step').length,
    openSections: document.querySelectorAll('details.log-step[open]').length,
  });
}, 0)))`;

// Opens (then closes) the folded section with the most lines, by a click on its summary.
const TOGGLE = `(async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const folded = [...document.querySelectorAll('details.log-step:not([open])')];
  if (folded.length === 0) return null;
  const size = (d) => d.querySelectorAll('.log-lines > li').length;
  const target = folded.reduce((a, b) => (size(b) > size(a) ? b : a));
  const summary = target.querySelector('summary');
  summary.scrollIntoView();
  await frame();
  const time = async () => {
    const t0 = performance.now();
    summary.click();
    void document.body.offsetHeight;
    const t1 = performance.now();
    await frame();
    return { layout: t1 - t0, frame: performance.now() - t0, open: target.open };
  };
  const opened = await time();
  await frame();
  const closed = await time();
  return { key: target.dataset.key, lines: size(target), openLayout: opened.layout, openFrame: opened.frame,
    openedOk: opened.open, closeLayout: closed.layout, closeFrame: closed.frame, closedOk: !closed.open };
})()`;

function median(values) {
  const sorted = values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main() {
  const target = new URL(url);
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  await send('Page.enable', {}, sessionId);
  await send('Runtime.enable', {}, sessionId);
  await send('Performance.enable', {}, sessionId);
  await send('Network.enable', {}, sessionId);
  await send('Network.setCookie', { name: cookieName, value: cookieValue, domain: target.hostname, path: '/', httpOnly: true }, sessionId);
  await send('Page.addScriptToEvaluateOnNewDocument', { source: LONG_TASKS }, sessionId);

  const results = [];
  for (let run = 0; run <= runs; run++) {   // run 0: warm-up (assets into the cache, the page's code paths warm)
    const blank = nextEvent('Page.loadEventFired', sessionId);
    await send('Page.navigate', { url: 'about:blank' }, sessionId);
    await blank;
    const loaded = nextEvent('Page.loadEventFired', sessionId);
    const start = process.hrtime.bigint();
    const navigation = await send('Page.navigate', { url }, sessionId);
    if (navigation.errorText) throw new Error(`navigation failed: ${navigation.errorText}`);
    await loaded;
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    const timings = await evaluate(TIMINGS, sessionId);
    const toggle = await evaluate(TOGGLE, sessionId);
    const { metrics } = await send('Performance.getMetrics', {}, sessionId);
    const metric = (name) => metrics.find((m) => m.name === name)?.value ?? null;
    const result = { run, wall, ...timings, toggle, nodes: metric('Nodes'), jsHeapUsed: metric('JSHeapUsedSize') };
    if (resultsFile) fs.appendFileSync(resultsFile, JSON.stringify(result) + '\n');
    if (run > 0) results.push(result);
    const ms = (v) => (typeof v === 'number' ? v.toFixed(0) : '-');
    console.log(`${run === 0 ? 'warm-up' : `run ${run}`}: first byte ${ms(timings.responseStart)} ms, HTML received ${ms(timings.responseEnd)}, ` +
      `DOMContentLoaded ${ms(timings.domContentLoaded)}, load ${ms(timings.load)}, ready ${ms(timings.ready)} (wall ${ms(wall)}), ` +
      `longest task ${ms(timings.longestTask)} ms (${timings.longTasks ? `${timings.longTasks.length} tasks over 50 ms, ${ms(timings.longTasks.reduce((a, b) => a + b, 0))} ms in all` : '-'}); open ${toggle ? `${toggle.lines} lines: ${ms(toggle.openFrame)} ms, close ${ms(toggle.closeFrame)} ms` : '-'}`);
  }

  const m = (pick) => median(results.map(pick));
  const first = results[0];
  const summary = {
    url, runs: results.length, htmlBytes: first.htmlBytes, lines: first.lines, sections: first.sections, openSections: first.openSections,
    nodes: first.nodes, jsHeapUsedMB: first.jsHeapUsed / 1048576,
    medianMs: {
      firstByte: m((r) => r.responseStart), htmlReceived: m((r) => r.responseEnd), domInteractive: m((r) => r.domInteractive),
      domContentLoaded: m((r) => r.domContentLoaded), load: m((r) => r.load), fcp: m((r) => r.fcp), ready: m((r) => r.ready),
      wall: m((r) => r.wall), longestTask: m((r) => r.longestTask), longTasksTotal: m((r) => r.longTasks?.reduce((a, b) => a + b, 0)),
      openLayout: m((r) => r.toggle?.openLayout), openFrame: m((r) => r.toggle?.openFrame),
      closeLayout: m((r) => r.toggle?.closeLayout), closeFrame: m((r) => r.toggle?.closeFrame),
    },
    toggled: first.toggle ? { key: first.toggle.key, lines: first.toggle.lines, opened: results.every((r) => r.toggle?.openedOk), closed: results.every((r) => r.toggle?.closedOk) } : null,
  };
  console.log('SUMMARY ' + JSON.stringify(summary));
}

main()
  .then(() => 0, (error) => { console.error(error.stack || String(error)); return 1; })
  .then(async (code) => {
    const exited = new Promise((r) => (chromium.exitCode !== null ? r() : chromium.once('exit', r)));
    try { await Promise.race([send('Browser.close'), new Promise((r) => setTimeout(r, 5000))]); } catch { /* closing anyway */ }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (chromium.exitCode === null) chromium.kill();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    process.exit(code);
  });
