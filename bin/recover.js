#!/usr/bin/env node
'use strict';
// Runs the compiled CLI when built (the Docker image), else the TypeScript sources through tsx (a checkout).
const path = require('node:path');
const fs = require('node:fs');
const built = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (fs.existsSync(built)) {
  require(built).main();
} else {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli', 'main.ts')).main();
}
