#!/usr/bin/env node
// The `tessera` executable. Commands register themselves in ./commands.js;
// the modules defining them are imported here, before runCli.
import '../index.js';
import { runCli } from './commands.js';
import './info.js';
import './bench.js';
import './srgnn.js';
import './gde.js';
import './mup.js';
import './detect.js';
import './spl.js';
import './deepar.js';
import './serve.js';
import './launch.js';

process.exitCode = await runCli(process.argv.slice(2));
// A GPU device (Dawn) may keep the event loop alive after the work is done.
process.exit(process.exitCode ?? 0);
