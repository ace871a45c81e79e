#!/usr/bin/env node
// After `tsc -p tsconfig.build.json` an app's dist/ holds dist/<app>/src/** and the compiled
// kit in dist/service-kit/src/**. The workspace package's `main` points at TypeScript source, so
// compiled code must not resolve "@orders-platform/service-kit" through node_modules: this
// rewrites those requires to relative paths into dist/service-kit. Usage: relink.cjs <distDir>
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const dist = path.resolve(process.argv[2] || "dist");
const kitIndex = path.join(dist, "service-kit", "src", "index.js");
if (!fs.existsSync(kitIndex)) {
    console.error(`relink: ${kitIndex} not found (run tsc first)`);
    process.exit(1);
}
const pattern = /require\((["'])@orders-platform\/service-kit\1\)/g;
let files = 0;
function walk(dir) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            if (p !== path.join(dist, "service-kit")) walk(p);
        } else if (entry.name.endsWith(".js")) {
            const src = fs.readFileSync(p, "utf8");
            if (!pattern.test(src)) continue;
            let rel = path.relative(path.dirname(p), kitIndex).split(path.sep).join("/");
            if (!rel.startsWith(".")) rel = "./" + rel;
            fs.writeFileSync(p, src.replace(pattern, `require("${rel}")`));
            files++;
        }
    }
}
walk(dist);
// Dependencies npm nested under the kit's workspace (version conflicts with the root) must stay
// visible to the compiled kit: link them next to it when they exist (local builds only).
const nested = path.resolve(__dirname, "..", "node_modules");
const linkPath = path.join(dist, "service-kit", "node_modules");
if (fs.existsSync(nested) && !fs.existsSync(linkPath)) fs.symlinkSync(nested, linkPath, "dir");
console.log(`relink: ${files} file(s) now load the compiled service-kit`);
