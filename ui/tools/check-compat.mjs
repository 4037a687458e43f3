#!/usr/bin/env node
// Checks the built UI (dist/) against the oldest supported WebView, Chrome / Android System
// WebView 69 (docs/ANDROID.md). Run by `npm run check` after `npm run build`.
//
// - every JS file parses as ES2019 (what Chrome 69 parses: ES2018 and optional catch
//   binding), so no class fields, `?.`, `??`, `||=`, numeric separators or private methods
//   are left;
// - no library API that neither Chrome 69 nor src/lib/compat.ts provides;
// - index.html's inline start script parses as ES5 (it must run on anything);
// - the CSS has no selector Chrome 69 drops (`:where()`, `:is()`, and `:has()`,
//   `:focus-visible` only as rules of their own, which then just do not apply), no
//   `clamp()`/`min()`/`max()`, no `dvh` without a fallback before it, and every flex
//   container with a `gap` has its `html.no-flex-gap` fallback.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as acorn from 'acorn';
import postcss from 'postcss';

const DIST = process.env.COMPAT_DIST ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const problems = [];
const fail = (where, what) => problems.push(`${where}: ${what}`);

// Globals and members after Chrome 69 that compat.ts does not fill in.
const MISSING_GLOBALS = new Set(['structuredClone', 'WeakRef', 'FinalizationRegistry', 'AggregateError', 'reportError']);
const MISSING_MEMBERS = new Set([
  'findLast', 'findLastIndex', 'toSorted', 'toReversed', 'toSpliced', 'groupBy', 'fromAsync',
  'replaceChildren', 'any', 'timeout', 'Segmenter', 'ListFormat', 'RelativeTimeFormat', 'DisplayNames',
  'formatRange', 'supportedValuesOf', 'hasIndices', 'waitAsync', 'withResolvers',
]);
// Object keys that change what an Intl constructor does only from a later version.
const MISSING_OPTIONS = new Set(['dateStyle', 'timeStyle', 'fractionalSecondDigits', 'signDisplay', 'notation', 'compactDisplay', 'dayPeriod']);

function walk(node, visit) {
  if (!node || typeof node.type !== 'string') return;
  visit(node);
  for (const key of Object.keys(node)) {
    const v = node[key];
    if (Array.isArray(v)) for (const c of v) walk(c, visit);
    else if (v && typeof v.type === 'string') walk(v, visit);
  }
}

function checkJs(file, code) {
  let ast;
  try {
    ast = acorn.parse(code, { ecmaVersion: 2019, sourceType: 'module', locations: true });
  } catch (e) {
    const at = e.pos ?? 0;
    fail(file, `not ES2019 (Chrome 69): ${e.message} near ${JSON.stringify(code.slice(Math.max(0, at - 40), at + 40))}`);
    return;
  }
  walk(ast, (n) => {
    const where = `${file}:${n.loc?.start.line}:${n.loc?.start.column}`;
    if (n.type === 'Identifier' && MISSING_GLOBALS.has(n.name)) fail(where, `${n.name} is not in Chrome 69`);
    if (n.type === 'MemberExpression' && !n.computed && n.property.type === 'Identifier' && MISSING_MEMBERS.has(n.property.name)) {
      // `Promise.any` / `AbortSignal.timeout`, not any object's own `.any` or `.timeout`.
      const name = n.property.name;
      const obj = n.object.type === 'Identifier' ? n.object.name : '';
      if ((name === 'any' && obj !== 'Promise') || (name === 'timeout' && obj !== 'AbortSignal')) return;
      fail(where, `.${name} is not in Chrome 69`);
    }
    if (n.type === 'Property' && !n.computed && n.key.type === 'Identifier' && MISSING_OPTIONS.has(n.key.name)) {
      fail(where, `option ${n.key.name} is not in Chrome 69's Intl`);
    }
  });
}

function checkHtml(file, html) {
  const scripts = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  if (scripts.length === 0) fail(file, 'the inline start script (WebView check) is missing');
  for (const s of scripts) {
    try {
      acorn.parse(s, { ecmaVersion: 5, sourceType: 'script' });
    } catch (e) {
      fail(file, `inline script is not ES5: ${e.message}`);
    }
  }
}

const ENHANCEMENT_ONLY = /:has\(|:focus-visible/;
const NEVER = /:where\(|:is\(|:matches\(/;

function checkCss(file, css) {
  const root = postcss.parse(css, { from: file });
  const flexWithGap = [];
  const fallbacks = new Set();
  root.walkRules((rule) => {
    if (rule.parent?.type === 'atrule' && /keyframes$/.test(rule.parent.name)) return;
    const sels = rule.selectors;
    for (const s of sels) {
      if (NEVER.test(s)) fail(file, `selector ${s} is dropped by Chrome 69`);
      if (/:not\([^)]*[\s>+~,]/.test(s)) fail(file, `selector ${s}: :not() with a complex argument needs Chrome 88`);
    }
    const enh = sels.filter((s) => ENHANCEMENT_ONLY.test(s));
    if (enh.length > 0 && enh.length < sels.length) {
      fail(file, `rule "${rule.selector}" mixes ${enh[0]} with other selectors: Chrome 69 would drop them all`);
    }
    if (rule.selector.startsWith('html.no-flex-gap ')) {
      for (const s of sels) fallbacks.add(s.replace(/^html\.no-flex-gap\s+/, '').replace(/\s*>\s*\*(\s*\+\s*\*)?$/, ''));
    }
    const seen = new Map();
    let display = null;
    let gap = false;
    rule.each((d) => {
      if (d.type !== 'decl') return;
      if (/(^|[^a-z-])(clamp|min|max)\(/.test(d.value)) fail(file, `${rule.selector} { ${d.prop}: ${d.value} } needs Chrome 79`);
      if (/\d(dvh|svh|lvh|dvw|svw|lvw)\b/.test(d.value) && !seen.has(d.prop)) {
        fail(file, `${rule.selector} { ${d.prop}: ${d.value} } has no fallback before it`);
      }
      seen.set(d.prop, d.value);
      if (d.prop === 'display') display = d.value;
      if (/^(gap|row-gap|column-gap)$/.test(d.prop) && !/^0(px|rem)?$/.test(d.value.trim())) gap = true;
    });
    if (gap && display && /^(inline-)?flex$/.test(display)) flexWithGap.push(rule);
  });
  for (const rule of flexWithGap) {
    for (const s of rule.selectors) if (!fallbacks.has(s)) fail(file, `flex container ${s} has a gap but no html.no-flex-gap fallback`);
  }
}

if (!existsSync(DIST)) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
let count = 0;
const assets = join(DIST, 'assets');
for (const f of readdirSync(assets)) {
  const p = join(assets, f);
  if (f.endsWith('.js')) checkJs(`assets/${f}`, readFileSync(p, 'utf8'));
  else if (f.endsWith('.css')) checkCss(`assets/${f}`, readFileSync(p, 'utf8'));
  else continue;
  count++;
}
checkHtml('index.html', readFileSync(join(DIST, 'index.html'), 'utf8'));
if (problems.length > 0) {
  console.error(`dist/ does not fit the oldest supported WebView (Chrome 69):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dist/ fits Chrome / Android System WebView 69: ${count} files checked (ES2019 syntax, APIs, CSS) and index.html's start script (ES5)`);
