// A PostCSS step for the oldest supported WebView (Chrome 69, docs/ANDROID.md), run on every
// stylesheet of the build (app.css and each Svelte component's scoped styles):
//
// - Svelte 5 scopes every selector part after the first with `:where(.svelte-xyz)` (Chrome
//   88+); an older engine drops the whole rule. They become plain `.svelte-xyz` classes, as
//   Svelte 4 wrote them (a little more specific; the first part already carries the class).
// - `gap` on a flex container needs Chrome 84. For each flex rule with a gap, a margin
//   fallback under `html.no-flex-gap` (set by index.html's start script only where flex gap
//   is missing) spaces the children instead.
//
// scripts/check-compat.mjs checks the built CSS for what this step must have removed.

const WHERE_SCOPE = /:where\((\.svelte-[a-z0-9]+)\)/g;

function decl(rule, prop) {
  let v = null;
  rule.each((n) => {
    if (n.type === 'decl' && n.prop === prop) v = n.value.trim();
  });
  return v;
}

/** The row and column gaps of a rule, from `gap`, `row-gap` and `column-gap`. */
function gaps(rule) {
  const g = decl(rule, 'gap');
  let row = null;
  let col = null;
  if (g) {
    const parts = g.split(/\s+(?![^(]*\))/);
    row = parts[0];
    col = parts[1] ?? parts[0];
  }
  row = decl(rule, 'row-gap') ?? row;
  col = decl(rule, 'column-gap') ?? col;
  const zero = (v) => v === null || /^0(px|rem|em)?$/.test(v) || v === 'normal';
  return { row: zero(row) ? null : row, col: zero(col) ? null : col };
}

/** The flex layout of selector `sel` in this stylesheet: what rules with the same selector
 *  say at the top level, overridden by the rule itself. */
function layoutOf(root, rule) {
  const at = { flex: false, column: false, wrap: false };
  const read = (r) => {
    const d = decl(r, 'display');
    if (d !== null) at.flex = /^(inline-)?flex$/.test(d);
    const dir = decl(r, 'flex-direction');
    if (dir !== null) at.column = dir.startsWith('column');
    const w = decl(r, 'flex-wrap');
    if (w !== null) at.wrap = w === 'wrap' || w === 'wrap-reverse';
    const flow = decl(r, 'flex-flow');
    if (flow !== null) {
      at.column = /column/.test(flow);
      at.wrap = /wrap(?!-)|wrap-reverse/.test(flow) && !/nowrap/.test(flow);
    }
  };
  root.walkRules((r) => {
    if (r !== rule && r.selector === rule.selector && r.parent?.type === 'root') read(r);
  });
  read(rule);
  return at;
}

export default function legacyCss() {
  return {
    postcssPlugin: 'jangkau-legacy-css',
    Once(root) {
      root.walkRules((rule) => {
        if (rule.selector.includes(':where(.svelte-')) rule.selector = rule.selector.replace(WHERE_SCOPE, '$1');
      });
      const fallbacks = [];
      root.walkRules((rule) => {
        if (rule.parent?.type === 'atrule' && /keyframes$/.test(rule.parent.name)) return;
        if (rule.selector.startsWith('html.no-flex-gap')) return;
        const { row, col } = gaps(rule);
        if (!row && !col) return;
        const at = layoutOf(root, rule);
        if (!at.flex) return;
        const sel = (suffix) =>
          rule.selectors.map((s) => `html.no-flex-gap ${s}${suffix}`).join(',');
        const add = (selector, props) => {
          const r = rule.clone({ selector, nodes: [] });
          for (const [prop, value] of props) if (value) r.append({ prop, value });
          if (r.nodes.length) fallbacks.push([rule, r]);
        };
        if (at.wrap) {
          // Wrapping rows: space after each child both ways.
          add(sel(' > *'), at.column ? [['margin-bottom', row], ['margin-right', col]] : [['margin-right', col], ['margin-bottom', row]]);
        } else if (at.column) {
          add(sel(' > * + *'), [['margin-top', row]]);
        } else {
          add(sel(' > * + *'), [['margin-left', col]]);
        }
      });
      for (const [after, r] of fallbacks) after.after(r);
    },
  };
}
legacyCss.postcss = true;

/** The step as a Vite plugin: rewrites each stylesheet (app.css and every compiled Svelte
 *  style) before Vite's own CSS handling. Not through `css.postcss`, which
 *  vitePreprocess would also run on each component's <style> before Svelte scopes it. */
export function legacyCssVite() {
  return {
    name: 'jangkau-legacy-css',
    enforce: 'pre',
    async transform(code, id) {
      if (!/\.css($|\?)/.test(id) || id.includes('.vite-preprocess.')) return null;
      const { default: postcss } = await import('postcss');
      const out = await postcss([legacyCss()]).process(code, { from: id.split('?')[0], to: id.split('?')[0], map: false });
      return { code: out.css, map: null };
    },
  };
}
