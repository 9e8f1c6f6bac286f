// Build a plotly.js bundle holding only the trace types the Profile dashboard draws.
//
// Usage: node build.mjs OUT.min.js [--traces a,b,c | --all] [--calendars]
//
// Why this way: plotly.js's own `npm run custom-bundle` lives in its git repository (tasks/), which
// the npm package does not ship. The npm package does ship lib/core.js and one lib/<trace>.js per
// trace type, the documented module approach, so this script registers the wanted traces on
// lib/core and bundles them with esbuild using the settings of plotly.js's esbuild-config.js
// (same plugins, aliases, defines, target), strips the attribute documentation that plotly.js's
// release build strips too, and wraps the result the way the released dist/plotly.min.js is wrapped
// (it sets window.Plotly as it runs). `--all` builds every trace of lib/index.js: a control that
// shows this pipeline reproduces the released full bundle's size.
import { build } from 'esbuild';
import { environmentPlugin } from 'esbuild-plugin-environment';
import { glsl } from 'esbuild-plugin-glsl';
import InlineCSSPlugin from 'esbuild-plugin-inline-css';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const PLOTLY_DIR = path.dirname(require.resolve('plotly.js/package.json'));
const PLOTLY_VERSION = JSON.parse(readFileSync(path.join(PLOTLY_DIR, 'package.json'), 'utf8')).version;

// The trace types in app/figures/*.py ("scatter" is always part of plotly.js core; listed anyway).
const APP_TRACES = ['scatter', 'bar', 'barpolar', 'heatmap', 'scatterpolar', 'scatter3d', 'surface'];

/** Every trace plotly.js's full bundle registers, read from its lib/index.js (for --all). */
function allTraces() {
    const index = readFileSync(path.join(PLOTLY_DIR, 'lib', 'index.js'), 'utf8');
    return [...index.matchAll(/require\('\.\/([a-z0-9]+)'\)/g)].map((m) => m[1]).filter((t) => t !== 'calendars' && t !== 'core');
}

/** The bundle's entry module: lib/core with the chosen traces (and calendars) registered. */
function entrySource(traces, calendars) {
    const modules = traces.concat(calendars ? ['calendars'] : []);
    for (const name of modules) {
        statSync(path.join(PLOTLY_DIR, 'lib', name + '.js'));  // fails loudly on an unknown trace name
    }
    const registered = modules.map((name) => `    require('plotly.js/lib/${name}'),`).join('\n');
    return `'use strict';\nvar Plotly = require('plotly.js/lib/core');\nPlotly.register([\n${registered}\n]);\nmodule.exports = Plotly;\n`;
}

// Attribute metadata only the schema/docs read (plotly.js's release build removes the same keys):
// `description: '...'`, `description: ['...', '...'].join(' ')`, `hrName: '...'` and the
// `requiredOpts: [...]` / `otherOpts: [...]` lists of lib/coerce.js. Each pattern only matches a
// property whose value is made of string literals, maybe joined by `+` to plain names (`'a' + b.c`),
// so calls and anything else stay; it ends at a comma or at the closing brace.
const STR = String.raw`(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")`;
const TERM = String.raw`(?:${STR}|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)`;
const CONCAT = String.raw`${STR}(?:\s*\+\s*${TERM})*|[A-Za-z_$][\w$.]*(?:\s*\+\s*${TERM})+`;
const STR_LIST = String.raw`\[(?:\s*(?:(?:${CONCAT})\s*,?|//[^\n]*))*\s*\]`;
const END = String.raw`\s*(?:,|(?=\s*\}))`;
const META_PATTERNS = [
    new RegExp(String.raw`[ \t]*\b(?:description|hrName): ${STR}${END}`, 'g'),
    new RegExp(String.raw`[ \t]*\bdescription: ${STR_LIST}\.join\(\s*${STR}\s*\)${END}`, 'g'),
    new RegExp(String.raw`[ \t]*\b(?:requiredOpts|otherOpts): ${STR_LIST}${END}`, 'g'),
];

/** Source text without the attribute metadata of META_PATTERNS. */
export function stripMeta(text) {
    return META_PATTERNS.reduce((t, pattern) => t.replace(pattern, ''), text);
}

/** esbuild plugin: drop attribute documentation from plotly.js's own sources as they are loaded. */
function stripAttributeMeta() {
    const filter = new RegExp('^' + PLOTLY_DIR.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '[\\\\/]src[\\\\/].*\\.js$');
    return {
        name: 'strip-attribute-meta',
        setup(b) {
            b.onLoad({ filter }, (args) => {
                return { contents: stripMeta(readFileSync(args.path, 'utf8')), loader: 'js' };
            });
        },
    };
}

/** Text before and after the bundle: the license header and the released bundle's UMD wrapper. */
function wrapper(traces) {
    const header = `/**\n* plotly.js v${PLOTLY_VERSION} (partial: ${traces.join(', ')} - minified)\n`
        + '* Copyright 2012-2026, Plotly, Inc.\n* All rights reserved.\n* Licensed under the MIT license\n*/\n';
    const open = '(function (root, factory) {\n'
        + '  if (typeof module === "object" && module.exports) { module.exports = factory(); }\n'
        + '  else { root.moduleName = factory(); }\n'
        + '}(typeof self !== "undefined" ? self : this, () => {';
    const close = 'window.Plotly = Plotly;\nreturn Plotly;\n}));';
    return { banner: header + open, footer: close };
}

/** Command line: OUT path, --traces list (default: the app's), --all, --calendars. */
function parseArgs(argv) {
    const opts = { out: null, traces: APP_TRACES, calendars: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '--traces') { opts.traces = argv[++i].split(',').filter(Boolean); }
        else if (a === '--all') { opts.traces = allTraces(); opts.calendars = true; }
        else if (a === '--calendars') { opts.calendars = true; }
        else if (!opts.out && !a.startsWith('--')) { opts.out = path.resolve(a); }
        else { throw new Error(`unknown argument ${a}`); }
    }
    if (!opts.out) { throw new Error('usage: node build.mjs OUT.min.js [--traces a,b,c | --all] [--calendars]'); }
    if (!opts.traces.includes('scatter')) { opts.traces = ['scatter', ...opts.traces]; }
    return opts;
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    const { banner, footer } = wrapper(opts.traces);
    await build({
        stdin: { contents: entrySource(opts.traces, opts.calendars), resolveDir: HERE, sourcefile: 'plotly-partial-entry.js', loader: 'js' },
        outfile: opts.out,
        bundle: true,
        format: 'iife',
        globalName: 'Plotly',
        minify: true,
        sourcemap: false,
        target: 'es2016',
        plugins: [stripAttributeMeta(), InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
        alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
        define: { global: 'window', 'define.amd': 'false' },
        banner: { js: banner },
        footer: { js: footer },
        logLevel: 'warning',
    });
    const size = statSync(opts.out).size;
    console.log(`${opts.out}: plotly.js ${PLOTLY_VERSION}, traces ${opts.traces.join(',')}${opts.calendars ? ' + calendars' : ''}, ${size} bytes`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    main().catch((err) => { console.error(err); process.exit(1); });
}
