#!/usr/bin/env node
// The `tessera` executable. Commands register themselves in ./commands.js;
// modules defining further commands are imported here, before runCli.
import { runCli } from './commands.js';

process.exitCode = await runCli(process.argv.slice(2));
