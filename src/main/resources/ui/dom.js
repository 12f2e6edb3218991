// DOM helpers. Every value that came from the API (and so, maybe, from a fetched page) goes in as text:
// nothing here ever assigns innerHTML or builds markup from a string.

/** h('a', {href: '#/x', class: 'c'}, 'text', child): an element; strings become text nodes. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'style') {
      throw new Error('no style attributes: the CSP refuses them; use a class');
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** A two-column table of [label, value] rows; values are text or nodes. */
export function facts(rows) {
  return h('table', {class: 'facts'}, h('tbody', {}, rows
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => h('tr', {}, h('th', {scope: 'row'}, k), h('td', {}, v)))));
}

/** A table with a header row; each row is an array of cells (text or nodes). */
export function table(headers, rows, attrs) {
  return h('table', Object.assign({class: 'grid'}, attrs || {}),
    h('thead', {}, h('tr', {}, headers.map(x => h('th', {scope: 'col'}, x)))),
    h('tbody', {}, rows.map(r => r instanceof Node ? r : h('tr', {}, r.map(c => h('td', {}, c))))));
}

const ENTITIES = {'&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'"};

/**
 * A search snippet as nodes: the API's snippet is escaped text with matches in <b>…</b>. It is not parsed as
 * HTML: the markers split it, the five entities the store writes are decoded, and each part becomes a text
 * node, a match a <mark>. Anything else that looks like markup stays text.
 */
export function snippetNodes(snippet) {
  const out = [];
  const parts = String(snippet || '').split(/(<b>|<\/b>)/);
  let inMatch = false;
  for (const part of parts) {
    if (part === '<b>') { inMatch = true; continue; }
    if (part === '</b>') { inMatch = false; continue; }
    if (!part) continue;
    const text = part.replace(/&(amp|lt|gt|quot|#39);/g, e => ENTITIES[e]);
    out.push(inMatch ? h('mark', {}, text) : document.createTextNode(text));
  }
  return out;
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

export function num(n, digits) {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  return Number(n).toLocaleString(undefined, {maximumFractionDigits: digits === undefined ? 1 : digits});
}

export function bytes(n) {
  if (n === undefined || n === null) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${num(v, i ? 1 : 0)} ${units[i]}`;
}
