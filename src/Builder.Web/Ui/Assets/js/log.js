/*
 * Builder: follows a build's log on the build page (no framework; ES2020; no inline handlers, no innerHTML).
 *
 * The page renders the log so far with BuildLogView (src/Builder.Web/Ui/BuildLogView.cs) inside
 *   <section id="log" data-stream-url="/api/builds/7/log" data-last-event-id="412">
 *     <div class="log-sections" data-line-count="..." data-last-event-id="412"> <details class="log-step"> ... </div>
 * and this script reads what came after chunk 412 as server-sent events (GET .../log?lastEventId=412; on its own
 * reconnections EventSource sends Last-Event-ID, which the server prefers). Each line goes to its step's section, made
 * here with the server's markup when a new step appears. Optional elements: #follow (checkbox: keep the view at the
 * bottom), #build-state and #build-error (the build's state and error), [data-part-id] (a part's state: its class
 * state-*, data-state, and the text of itself or a descendant with class part-state). #log gets data-stream =
 * open / reconnecting / failed / ended.
 *
 * Section rules: the same as LogLinePrefix.cs (its summary is the written spec); change both together.
 *  1. A line is the text between two line feeds, without the carriage returns that end it. The stream sends a line's
 *     other carriage returns as data fields of one event, which EventSource joins with line feeds: here a line feed
 *     in a line stands for a carriage return.
 *  2. A bracket is "[" NAME "]" followed by a space or the end of the line; NAME is not empty, has no "]" and no
 *     control character (below U+0020).
 *  3. A line that starts with a bracket has a prefix; its NAME is the source. The sources builder, git and plan are
 *     the key. Otherwise, when a second bracket follows the first one's space, the key is source + " " + second NAME;
 *     else the key is the source.
 *  4. A line without a prefix is in the previous line's section; at the start of the log, in section "log".
 *  5. A line shows what follows its prefix and one space (all of a line without a prefix), and of that only what
 *     follows the last carriage return.
 *  6. Sections are in the order their keys first appear. Anchor id: "s-" + slug (ASCII letters lower-cased, digits and
 *     "_" kept, each run of other characters one "-", none at either end, "log" when empty); an id an earlier
 *     section has gets "-2", "-3", ... Title: the key.
 *  7. Lines are numbered from 1 through the whole log: line N has the id "LN".
 * ANSI: as AnsiHtml.cs (SGR 1, 2, 3, 4, 22-24, 30-37, 39, 40-47, 49, 90-97, 100-107, 38/48;5;n and ;2;r;g;b to the
 * nearest of xterm's 16; every other escape sequence and control character but tab removed).
 */
(() => {
  'use strict';

  const JOB_SOURCES = ['builder', 'git', 'plan'];
  const NO_PREFIX_KEY = 'log';

  // Rule 2: where the bracket that starts at `start` closes; -1 when none starts there.
  function bracket(line, start) {
    if (start >= line.length || line[start] !== '[') return -1;
    const close = line.indexOf(']', start + 1);
    if (close <= start + 1) return -1;
    if (close + 1 < line.length && line[close + 1] !== ' ') return -1;
    for (let i = start + 1; i < close; i++) if (line.charCodeAt(i) < 0x20) return -1;
    return close;
  }

  // Rules 3 and 5: { key (null: no prefix), text }.
  function parseLine(line) {
    let key = null;
    let start = 0;
    const first = bracket(line, 0);
    if (first >= 0) {
      const source = line.slice(1, first);
      key = source;
      let end = first + 1;
      if (!JOB_SOURCES.includes(source)) {
        const second = bracket(line, first + 2);
        if (second >= 0) {
          key = source + ' ' + line.slice(first + 3, second);
          end = second + 1;
        }
      }
      start = Math.min(end + 1, line.length);
    }
    const feed = line.lastIndexOf('\n');
    return { key, text: line.slice(feed >= start ? feed + 1 : start) };
  }

  // Rule 6.
  function slug(key) {
    let out = '';
    let dash = false;
    for (let i = 0; i < key.length; i++) {
      let c = key.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32;
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95) {
        if (dash && out.length > 0) out += '-';
        dash = false;
        out += String.fromCharCode(c);
      } else {
        dash = true;
      }
    }
    return 's-' + (out || NO_PREFIX_KEY);
  }

  function uniqueId(base, taken) {
    let id = base;
    for (let n = 2; taken.has(id); n++) id = base + '-' + n;
    return id;
  }

  // ANSI. A style is one number: flags (bold 1, dim 2, italic 4, underline 8) | (fg + 1) << 4 | (bg + 1) << 9; 0 is plain.
  const PALETTE = [[0, 0, 0], [205, 0, 0], [0, 205, 0], [205, 205, 0], [0, 0, 238], [205, 0, 205], [0, 205, 205], [229, 229, 229],
    [127, 127, 127], [255, 0, 0], [0, 255, 0], [255, 255, 0], [92, 92, 255], [255, 0, 255], [0, 255, 255], [255, 255, 255]];

  function nearest16(r, g, b) {
    let best = 0;
    let bestDistance = Infinity;
    PALETTE.forEach(([pr, pg, pb], i) => {
      const d = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
      if (d < bestDistance) { best = i; bestDistance = d; }
    });
    return best;
  }

  const level = (step) => (step === 0 ? 0 : 55 + step * 40);
  const NEAREST_256 = Array.from({ length: 256 }, (_, n) => {
    if (n < 16) return n;
    if (n >= 232) { const grey = 8 + (n - 232) * 10; return nearest16(grey, grey, grey); }
    const cube = n - 16;
    return nearest16(level(Math.floor(cube / 36)), level(Math.floor(cube / 6) % 6), level(cube % 6));
  });

  const fgOf = (style) => ((style >> 4) & 31) - 1;
  const bgOf = (style) => ((style >> 9) & 31) - 1;
  const withFg = (style, fg) => (style & ~(31 << 4)) | ((fg + 1) << 4);
  const withBg = (style, bg) => (style & ~(31 << 9)) | ((bg + 1) << 9);
  const withFlag = (style, flag, on) => (on ? style | flag : style & ~flag);

  function classesOf(style) {
    const classes = [];
    if (style & 1) classes.push('a-bold');
    if (style & 2) classes.push('a-dim');
    if (style & 4) classes.push('a-italic');
    if (style & 8) classes.push('a-underline');
    if (fgOf(style) >= 0) classes.push('a-fg' + fgOf(style));
    if (bgOf(style) >= 0) classes.push('a-bg' + bgOf(style));
    return classes.join(' ');
  }

  // [colour (-1: none), parameters used] of "5;n" / "2;r;g;b" (colon form: "5:n", "2::r:g:b", "2:cs:r:g:b", "2:r:g:b").
  function extendedColour(args, colonForm) {
    if (args[0] === 5 && args.length >= 2) return [args[1] <= 255 ? NEAREST_256[args[1]] : -1, 2];
    if (args[0] === 2 && args.length >= 4) {
      const rgb = colonForm && args.length >= 5 ? args.slice(2, 5) : args.slice(1, 4);
      return [rgb.every((v) => v <= 255) ? nearest16(rgb[0], rgb[1], rgb[2]) : -1, colonForm ? args.length : 4];
    }
    return [-1, args.length];
  }

  function sgr(text, style) {
    const values = [];
    const sub = [];
    let value = 0;
    let colon = false;
    for (let i = 0; i <= text.length && values.length < 32; i++) {
      const c = i < text.length ? text.charCodeAt(i) : 59;
      if (c >= 48 && c <= 57) { value = Math.min(value * 10 + (c - 48), 1000000); continue; }
      values.push(value);
      sub.push(colon);
      value = 0;
      colon = c === 58;
    }
    for (let k = 0; k < values.length; k++) {
      const code = values[k];
      let subs = k + 1;
      while (subs < values.length && sub[subs]) subs++;
      const colonArgs = values.slice(k + 1, subs);
      if (code === 0) style = 0;
      else if (code === 1) style = withFlag(style, 1, true);
      else if (code === 2) style = withFlag(style, 2, true);
      else if (code === 3) style = withFlag(style, 4, true);
      else if (code === 4) style = withFlag(style, 8, colonArgs.length === 0 || colonArgs[0] !== 0);
      else if (code === 22) style = withFlag(withFlag(style, 1, false), 2, false);
      else if (code === 23) style = withFlag(style, 4, false);
      else if (code === 24) style = withFlag(style, 8, false);
      else if (code >= 30 && code <= 37) style = withFg(style, code - 30);
      else if (code >= 90 && code <= 97) style = withFg(style, code - 90 + 8);
      else if (code === 39) style = withFg(style, -1);
      else if (code >= 40 && code <= 47) style = withBg(style, code - 40);
      else if (code >= 100 && code <= 107) style = withBg(style, code - 100 + 8);
      else if (code === 49) style = withBg(style, -1);
      else if (code === 38 || code === 48) {
        let colour;
        if (colonArgs.length > 0) {
          [colour] = extendedColour(colonArgs, true);
        } else {
          const [c, used] = extendedColour(values.slice(k + 1), false);
          colour = c;
          subs = k + 1 + used;
        }
        if (colour >= 0) style = code === 38 ? withFg(style, colour) : withBg(style, colour);
      }
      k = subs - 1;
    }
    return style;
  }

  // Where the text goes on after the control character or escape sequence at i; [index, style].
  function skip(line, i, style) {
    const at = (j) => line.charCodeAt(j);
    const csi = (start) => {
      let j = start;
      while (j < line.length && at(j) >= 0x30 && at(j) <= 0x3f) j++;
      const params = line.slice(start, j);
      const intermediates = j;
      while (j < line.length && at(j) >= 0x20 && at(j) <= 0x2f) j++;
      if (j >= line.length || at(j) < 0x40 || at(j) > 0x7e) return [j, style];
      if (line[j] === 'm' && intermediates === j && !/[<=>?]/.test(params)) style = sgr(params, style);
      return [j + 1, style];
    };
    const controlString = (start) => {
      for (let j = start; j < line.length; j++) {
        if (at(j) === 0x07 || at(j) === 0x9c) return [j + 1, style];
        if (at(j) === 0x1b) return [j + 1 < line.length && line[j + 1] === '\\' ? j + 2 : j, style];
      }
      return [line.length, style];
    };
    const c = at(i);
    if (c === 0x1b) {
      if (i + 1 >= line.length) return [i + 1, style];
      const next = line[i + 1];
      if (next === '[') return csi(i + 2);
      if (']PX^_'.includes(next)) return controlString(i + 2);
      let j = i + 1;
      while (j < line.length && at(j) >= 0x20 && at(j) <= 0x2f) j++;
      return [j < line.length && at(j) >= 0x30 && at(j) <= 0x7e ? j + 1 : i + 1, style];
    }
    if (c === 0x9b) return csi(i + 1);
    if (c === 0x9d || c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) return controlString(i + 1);
    return [i + 1, style];
  }

  // The line as runs of text with the same classes: [{ cls, text }], none empty, no two neighbours alike.
  function ansiRuns(line) {
    const runs = [];
    let style = 0;
    let run = 0;
    let i = 0;
    const push = (end) => {
      if (end <= run) return;
      const cls = classesOf(style);
      const last = runs[runs.length - 1];
      if (last && last.cls === cls) last.text += line.slice(run, end);
      else runs.push({ cls, text: line.slice(run, end) });
    };
    while (i < line.length) {
      const c = line.charCodeAt(i);
      if (c >= 0x20 ? !(c === 0x7f || (c >= 0x80 && c <= 0x9f)) : c === 9) { i++; continue; }
      push(i);
      [i, style] = skip(line, i, style);
      run = i;
    }
    push(line.length);
    return runs;
  }

  globalThis.BuilderLog = { parseLine, slug, uniqueId, ansiRuns, NO_PREFIX_KEY };
  if (typeof document === 'undefined') return;

  const MAX_LINES_PER_FRAME = 2000;

  function start() {
    const log = document.getElementById('log');
    if (!log || !log.dataset.streamUrl || typeof EventSource === 'undefined') return;
    const container = log.querySelector('.log-sections') || log;
    const sections = new Map(); // key → <ol class="log-lines">
    const ids = new Set();
    for (const details of container.querySelectorAll('details.log-step')) {
      ids.add(details.id);
      const list = details.querySelector('ol.log-lines');
      if (details.dataset.key !== undefined && list) sections.set(details.dataset.key, list);
    }
    let lineCount = Number(container.dataset.lineCount ?? log.dataset.lineCount) || container.querySelectorAll('ol.log-lines > li').length;
    let lastKey = document.getElementById('L' + lineCount)?.closest('details.log-step')?.dataset.key ?? null;
    const followBox = document.getElementById('follow');
    const scroller = () => (/(auto|scroll)/.test(getComputedStyle(log).overflowY) && log.scrollHeight > log.clientHeight
      ? log : document.scrollingElement || document.documentElement);
    const atBottom = (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 8;
    const toBottom = () => { const el = scroller(); el.scrollTop = el.scrollHeight; };

    const element = (tag, className, text) => {
      const el = document.createElement(tag);
      if (className) el.className = className;
      if (text !== undefined) el.textContent = text;
      return el;
    };
    const setState = (el, state) => {
      for (const name of [...el.classList]) if (name.startsWith('state-')) el.classList.remove(name);
      el.classList.add('state-' + state);
      el.dataset.state = state;
    };
    const cleanState = (state) => (typeof state === 'string' && /^[a-z-]{1,20}$/.test(state) ? state : 'unknown');

    function section(key) {
      let list = sections.get(key);
      if (list) return list;
      const details = element('details', 'log-step state-running');
      details.id = uniqueId(slug(key), ids);
      ids.add(details.id);
      details.dataset.key = key;
      details.open = true;
      const summary = element('summary');
      summary.append(element('span', 'step-title', key), ' ', element('span', 'step-state', 'running'));
      list = element('ol', 'log-lines');
      details.append(summary, list);
      container.appendChild(details);
      sections.set(key, list);
      return list;
    }

    function lineElement(number, text) {
      const li = element('li');
      li.id = 'L' + number;
      const anchor = element('a', 'ln', String(number));
      anchor.href = '#L' + number;
      const body = element('span', 'lt');
      for (const run of ansiRuns(text)) body.append(run.cls ? element('span', run.cls, run.text) : run.text);
      li.append(anchor, body);
      return li;
    }

    // Lines wait for their chunk's id (on the chunk's last line): after a reconnection the server sends again what
    // followed the last id, so lines without one yet are dropped then.
    let pending = [];
    let queue = [];
    let lastId = '';
    let scheduled = false;
    let endState = null;

    function flush() {
      scheduled = false;
      const follow = followBox ? followBox.checked : atBottom(scroller());
      const batch = queue.length > MAX_LINES_PER_FRAME ? queue.splice(0, MAX_LINES_PER_FRAME) : queue.splice(0);
      const fragments = new Map();
      for (const data of batch) {
        const { key, text } = parseLine(data);
        lastKey = key ?? lastKey ?? NO_PREFIX_KEY;
        const list = section(lastKey);
        let fragment = fragments.get(list);
        if (!fragment) fragments.set(list, (fragment = document.createDocumentFragment()));
        fragment.appendChild(lineElement(++lineCount, text));
      }
      for (const [list, fragment] of fragments) list.appendChild(fragment);
      if (queue.length > 0) schedule();
      else if (endState !== null) finishSections(endState);
      if (follow) toBottom();
    }

    function schedule() {
      if (!scheduled) { scheduled = true; requestAnimationFrame(flush); }
    }

    function commit() {
      for (const data of pending) queue.push(data);
      pending = [];
      schedule();
    }

    // A step still running when the build ended: succeeded if the build did, else not known here (a reload tells).
    function finishSections(state) {
      for (const details of container.querySelectorAll('details.log-step.state-running')) {
        const stepState = state === 'succeeded' ? 'succeeded' : 'unknown';
        details.classList.replace('state-running', 'state-' + stepState);
        const label = details.querySelector('.step-state');
        if (label) label.textContent = stepState;
      }
    }

    function setBuildState(state) {
      document.body.dataset.buildState = state;
      const label = document.getElementById('build-state');
      if (label) { label.textContent = state; setState(label, state); }
    }

    const url = new URL(log.dataset.streamUrl, location.href);
    const resumeAfter = log.dataset.lastEventId ?? container.dataset.lastEventId ?? '';
    if (/^[0-9]+$/.test(resumeAfter) && Number(resumeAfter) > 0) url.searchParams.set('lastEventId', resumeAfter);
    const source = new EventSource(url.toString());

    source.addEventListener('open', () => { pending = []; log.dataset.stream = 'open'; });
    source.addEventListener('error', () => {
      log.dataset.stream = source.readyState === EventSource.CLOSED ? 'failed' : 'reconnecting';
    });
    source.addEventListener('message', (event) => {
      pending.push(event.data);
      if (event.lastEventId !== lastId) { lastId = event.lastEventId; commit(); }
    });
    source.addEventListener('lifecycle', (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch { return; }
      const state = cleanState(data.state);
      if (data.part === null || data.part === undefined) { setBuildState(state); return; }
      if (!Number.isSafeInteger(data.part)) return;
      for (const el of document.querySelectorAll(`[data-part-id="${data.part}"]`)) {
        setState(el, state);
        const label = el.classList.contains('part-state') ? el : el.querySelector('.part-state');
        if (label) label.textContent = state;
      }
    });
    source.addEventListener('end', (event) => {
      source.close();
      log.dataset.stream = 'ended';
      let data = {};
      try { data = JSON.parse(event.data) ?? {}; } catch { /* the state stays unknown */ }
      endState = cleanState(data.state);
      setBuildState(endState);
      const error = document.getElementById('build-error');
      if (error && typeof data.error === 'string') error.textContent = data.error;
      commit();
    });

    if (followBox) {
      if (location.hash) followBox.checked = false;
      followBox.addEventListener('change', () => { if (followBox.checked) toBottom(); });
      const onScroll = () => { followBox.checked = atBottom(scroller()); };
      window.addEventListener('scroll', onScroll, { passive: true });
      log.addEventListener('scroll', onScroll, { passive: true });
      if (followBox.checked) toBottom();
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
