// The CLI's command registry and argument parser. A command declares its
// flags, so parsing is unambiguous (a boolean flag never swallows the next
// word) and `help` can list them. Conventions: `--help` on any command,
// `--json` makes a command print exactly one JSON document on stdout (errors
// included, as {"error": ...}); exit 0 ok, 1 failure, 2 usage error.

export type FlagValue = string | number | boolean;

export interface FlagSpec {
  type: 'string' | 'number' | 'boolean';
  describe: string;
  default?: FlagValue;
}

export interface ParsedArgs {
  command: string;
  /** Declared flags with their defaults applied (flags without a default are absent unless given). */
  flags: Record<string, FlagValue>;
  positionals: string[];
  json: boolean;
}

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface CommandSpec {
  describe: string;
  /** Positional arguments as shown in help, e.g. '[command]'. */
  usage?: string;
  flags?: Record<string, FlagSpec>;
  /** Returns the exit code (default 0); a throw prints the message and exits 1. */
  run(args: ParsedArgs, io: CliIO): Promise<number | void> | number | void;
}

const registry = new Map<string, CommandSpec>();

export function registerCommand(name: string, spec: CommandSpec): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`registerCommand: invalid command name '${name}' (lowercase letters, digits, '-')`);
  if (registry.has(name)) throw new Error(`registerCommand: command '${name}' is already registered`);
  for (const flag of Object.keys(spec.flags ?? {})) {
    if (flag === 'help' || flag === 'json') throw new Error(`registerCommand: '${name}' may not redefine the global flag --${flag}`);
  }
  registry.set(name, spec);
}

export function listCommands(): [string, CommandSpec][] {
  return [...registry.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
}

class UsageError extends Error {}

/** Parses the words after the command name against the command's flags. */
export function parseArgs(command: string, words: string[], flags: Record<string, FlagSpec> = {}): ParsedArgs & { help: boolean } {
  const specs: Record<string, FlagSpec> = {
    ...flags,
    help: { type: 'boolean', describe: 'show help' },
    json: { type: 'boolean', describe: 'print one JSON document on stdout' },
  };
  const values: Record<string, FlagValue> = {};
  for (const [name, spec] of Object.entries(flags)) if (spec.default !== undefined) values[name] = spec.default;
  const positionals: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === '--') { positionals.push(...words.slice(i + 1)); break; }
    if (word === '-h') { values.help = true; continue; }
    if (!word.startsWith('--')) { positionals.push(word); continue; }
    const eq = word.indexOf('=');
    let name = eq >= 0 ? word.slice(2, eq) : word.slice(2);
    let value: string | undefined = eq >= 0 ? word.slice(eq + 1) : undefined;
    if (!(name in specs) && name.startsWith('no-') && specs[name.slice(3)]?.type === 'boolean' && value === undefined) {
      name = name.slice(3);
      value = 'false';
    }
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag --${name} for '${command}'`);
    if (spec.type === 'boolean') {
      if (value !== undefined && value !== 'true' && value !== 'false') throw new UsageError(`--${name} takes no value or true/false, got '${value}'`);
      values[name] = value !== 'false';
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= words.length) throw new UsageError(`--${name} needs a ${spec.type} value`);
      value = words[++i];
    }
    if (spec.type === 'number') {
      const n = value.trim() === '' ? NaN : Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`--${name} needs a number, got '${value}'`);
      values[name] = n;
    } else {
      values[name] = value;
    }
  }
  const { help = false, json = false, ...rest } = values;
  return { command, flags: rest, positionals, json: json as boolean, help: help as boolean };
}

function commandHelp(name: string, spec: CommandSpec): string {
  const lines = [`usage: tessera ${name}${spec.usage ? ` ${spec.usage}` : ''} [flags]`, '', spec.describe, '', 'flags:'];
  const flags = Object.entries({ ...spec.flags, json: { type: 'boolean', describe: 'print one JSON document on stdout' }, help: { type: 'boolean', describe: 'show this help' } } as Record<string, FlagSpec>);
  const width = Math.max(...flags.map(([f, s]) => f.length + (s.type === 'boolean' ? 0 : s.type.length + 3)));
  for (const [flag, s] of flags) {
    const left = s.type === 'boolean' ? flag : `${flag} <${s.type}>`;
    lines.push(`  --${left.padEnd(width)}  ${s.describe}${s.default !== undefined ? ` (default ${JSON.stringify(s.default)})` : ''}`);
  }
  return lines.join('\n') + '\n';
}

function overview(): string {
  const commands = listCommands();
  const width = Math.max(...commands.map(([n]) => n.length));
  return [
    'usage: tessera <command> [flags]',
    '',
    'commands:',
    ...commands.map(([n, s]) => `  ${n.padEnd(width)}  ${s.describe}`),
    '',
    "Run 'tessera help <command>' or 'tessera <command> --help' for a command's flags.",
    'Every command accepts --json (one JSON document on stdout) and --help.',
  ].join('\n') + '\n';
}

function helpAsJson(names: string[]): unknown {
  return Object.fromEntries(names.map((n) => {
    const s = registry.get(n)!;
    return [n, { describe: s.describe, usage: s.usage ?? '', flags: s.flags ?? {} }];
  }));
}

registerCommand('help', {
  describe: 'list the commands, or show the flags of one',
  usage: '[command]',
  run(args, io) {
    const [name, ...extra] = args.positionals;
    if (extra.length > 0) throw new UsageError(`help takes at most one command name, got ${args.positionals.length}`);
    if (name !== undefined && !registry.has(name)) throw new UsageError(unknownCommand(name));
    if (args.json) io.stdout(JSON.stringify(helpAsJson(name ? [name] : listCommands().map(([n]) => n))) + '\n');
    else io.stdout(name ? commandHelp(name, registry.get(name)!) : overview());
    return 0;
  },
});

function unknownCommand(name: string): string {
  return `unknown command '${name}'. Commands: ${listCommands().map(([n]) => n).join(', ')}. Run 'tessera help'.`;
}

const processIO: CliIO = {
  stdout: (text) => { process.stdout.write(text); },
  stderr: (text) => { process.stderr.write(text); },
};

/** Runs `tessera <argv...>` and returns the exit code. */
export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  const json = argv.includes('--json');
  const report = (message: string, code: number) => {
    if (json) io.stdout(JSON.stringify({ error: message, exitCode: code }) + '\n');
    else io.stderr(`tessera: ${message}\n`);
    return code;
  };
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(overview());
    return 2;
  }
  // `tessera --help` / `tessera -h` / `tessera --json --help` mean `tessera help`.
  const isFlag = first.startsWith('-');
  const name = isFlag ? 'help' : first;
  const words = isFlag ? argv : rest;
  const spec = registry.get(name);
  if (!spec) return report(unknownCommand(name), 2);
  try {
    const args = parseArgs(name, words, spec.flags);
    if (args.help) {
      // A bare `tessera --help` is about all commands, `tessera x --help` about x.
      const names = isFlag ? listCommands().map(([n]) => n) : [name];
      if (args.json) io.stdout(JSON.stringify(helpAsJson(names)) + '\n');
      else io.stdout(isFlag ? overview() : commandHelp(name, spec));
      return 0;
    }
    const code = await spec.run(args, io);
    return code ?? 0;
  } catch (e) {
    if (e instanceof UsageError) return report(`${name}: ${e.message}`, 2);
    return report(`${name}: ${(e as Error).message}`, 1);
  }
}
