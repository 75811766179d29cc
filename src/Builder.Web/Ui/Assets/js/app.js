// Builder's web UI: the few things that need JavaScript. Every page works without it. No inline scripts (CSP):
// behaviour is attached here to elements marked with data- attributes.
'use strict';

// Times: <time datetime="...Z" title="... UTC"> shows the viewer's local time; the title keeps UTC for hovering.
function localTimes(root) {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  for (const el of root.querySelectorAll('time[datetime]')) {
    const at = new Date(el.getAttribute('datetime'));
    if (!Number.isNaN(at.getTime())) el.textContent = format.format(at);
  }
}

// Copy buttons: <button data-copy="ID"> copies the text of the element with that id.
function copyButtons() {
  document.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-copy]');
    if (!button) return;
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    const label = button.textContent;
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = 'Copied';
    } catch {
      // No clipboard (insecure origin, denied): select the text so Ctrl+C works.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => { button.textContent = label; }, 1500);
  });
}

// Search as you type: <form data-live-search> with an input; the server renders the results (?partial=true answers the
// #results fragment only), so there is one way to render a list.
function liveSearch() {
  const form = document.querySelector('form[data-live-search]');
  if (!form) return;
  const input = form.querySelector('input[type="search"]');
  const results = document.getElementById('results');
  let timer = 0;
  let controller = null;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const params = new URLSearchParams(new FormData(form));
      const url = form.action.split('?')[0] + '?' + params.toString();
      if (controller) controller.abort();
      controller = new AbortController();
      try {
        const response = await fetch(url + '&partial=true', { signal: controller.signal, credentials: 'same-origin' });
        if (!response.ok) return;
        results.innerHTML = await response.text(); // Builder's own escaped HTML (and the CSP allows no inline script)
        localTimes(results);
        history.replaceState(null, '', url);
      } catch (error) {
        if (error.name !== 'AbortError') throw error;
      }
    }, 150);
  });
}

// Destructive forms ask first: <form data-confirm="Delete 1.0?">.
function confirmations() {
  document.addEventListener('submit', (event) => {
    const message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });
}

document.addEventListener('DOMContentLoaded', () => {
  localTimes(document);
  copyButtons();
  liveSearch();
  confirmations();
});
