// What the oldest supported WebView (Chrome / Android System WebView 69, see
// docs/ANDROID.md) lacks of the library APIs the bundle uses. The syntax is lowered by the
// build (vite.config.ts `build.target`); these are the runtime pieces, each installed only
// when missing. Imported first by main.ts, so it runs before Svelte's runtime.
// `npm run check:compat` (scripts/check-compat.mjs) checks the built files for that target.

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyFn = (...args: any[]) => any;

function define(target: object, name: string, value: AnyFn | object): void {
  if (name in target) return;
  Object.defineProperty(target, name, { value, configurable: true, writable: true, enumerable: false });
}

const g: any = typeof window !== 'undefined' ? window : (Function('return this')() as object);

// Chrome 71.
if (typeof g.globalThis === 'undefined') define(g, 'globalThis', g);
define(g, 'queueMicrotask', function queueMicrotask(cb: () => void) {
  Promise.resolve()
    .then(cb)
    .catch((e) =>
      setTimeout(() => {
        throw e;
      }),
    );
});

// Chrome 73.
define(Object, 'fromEntries', function fromEntries(entries: Iterable<readonly [PropertyKey, unknown]>) {
  const out: Record<PropertyKey, unknown> = {};
  for (const [k, v] of Array.from(entries)) out[k] = v;
  return out;
});
define(String.prototype, 'matchAll', function matchAll(this: string, re: RegExp) {
  if (!re.global) throw new TypeError('matchAll needs a global RegExp');
  const copy = new RegExp(re.source, re.flags);
  const found: RegExpExecArray[] = [];
  let m: RegExpExecArray | null;
  while ((m = copy.exec(this)) !== null) {
    found.push(m);
    if (m[0] === '') copy.lastIndex++;
  }
  return found[Symbol.iterator]();
});

// Chrome 85.
define(String.prototype, 'replaceAll', function replaceAll(this: string, search: string | RegExp, replacement: any) {
  if (search instanceof RegExp) {
    if (!search.global) throw new TypeError('replaceAll needs a global RegExp');
    return this.replace(search, replacement);
  }
  return this.split(String(search)).join(typeof replacement === 'function' ? String(replacement(search)) : String(replacement));
});
define(Promise, 'allSettled', function allSettled(items: Iterable<unknown>) {
  return Promise.all(
    Array.from(items, (p) =>
      Promise.resolve(p).then(
        (value) => ({ status: 'fulfilled', value }),
        (reason) => ({ status: 'rejected', reason }),
      ),
    ),
  );
});

// Chrome 92.
function at(this: ArrayLike<unknown>, index: number) {
  const n = Math.trunc(index) || 0;
  const i = n < 0 ? this.length + n : n;
  return i < 0 || i >= this.length ? undefined : this[i];
}
define(Array.prototype, 'at', at);
define(String.prototype, 'at', at);

// Chrome 93.
define(Object, 'hasOwn', function hasOwn(o: object, k: PropertyKey) {
  return Object.prototype.hasOwnProperty.call(o, k);
});

// Before Chrome 70, V8 sorted arrays of more than 10 items with an unstable quicksort; the
// lists (due children, rosters) rely on a stable sort for their secondary order.
function sortIsStable(): boolean {
  const a: { k: number; i: number }[] = [];
  for (let i = 0; i < 40; i++) a.push({ k: i % 3, i });
  a.sort((x, y) => x.k - y.k);
  for (let i = 1; i < a.length; i++) if (a[i - 1].k === a[i].k && a[i - 1].i > a[i].i) return false;
  return true;
}
if (!sortIsStable()) {
  const native = Array.prototype.sort;
  Object.defineProperty(Array.prototype, 'sort', {
    configurable: true,
    writable: true,
    value: function sort(this: unknown[], cmp?: (a: any, b: any) => number) {
      const by = cmp ?? ((a: unknown, b: unknown) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
      const tagged = this.map((v, i) => ({ v, i }));
      native.call(tagged, (a: { v: unknown; i: number }, b: { v: unknown; i: number }) => by(a.v, b.v) || a.i - b.i);
      for (let i = 0; i < tagged.length; i++) this[i] = tagged[i].v;
      return this;
    },
  });
}

/** Tells index.html's start watchdog that the bundle loaded (it shows the "WebView too old"
 *  message only when this never happens). */
export function markStarted(): void {
  g.__jangkauStarted = true;
  const msg = document.getElementById('compat-message');
  if (msg) msg.remove();
}
