// `tessera launch -n N script.js [-- script args]`: runs N copies of a Node script as one MPI job (over
// mpirun), for tessera-tensor/distributed. Each rank learns its RANK and WORLD_SIZE from MPI in init().
import { spawnSync } from 'node:child_process';
import { registerCommand } from './commands.js';

/** The mpirun arguments that start `nproc` ranks of `node script args` on this machine. */
export function mpirunArgs(nproc: number, script: string, scriptArgs: string[]): string[] {
  return [
    '-n', String(nproc),
    // Local runs may ask for more ranks than cores (each rank has its own thread pool).
    '--oversubscribe',
    // Containers often run as root; Open MPI refuses that unless told.
    ...(process.getuid?.() === 0 ? ['--allow-run-as-root'] : []),
    process.execPath, script, ...scriptArgs,
  ];
}

registerCommand('launch', {
  describe: 'run a script as N ranks of one MPI job (mpirun), for tessera-tensor/distributed',
  usage: '-n N script.js [-- script args]',
  flags: { nproc: { type: 'number', describe: 'number of ranks (also -n N)' } },
  run(args, io) {
    const words = [...args.positionals];
    let nproc = args.flags.nproc as number | undefined;
    if (words[0] === '-n') { nproc = Number(words[1]); words.splice(0, 2); }
    if (!Number.isInteger(nproc) || nproc! < 1) throw new Error(`launch: -n N must be an integer >= 1, got ${nproc ?? 'nothing'}`);
    const [script, ...scriptArgs] = words;
    if (!script) throw new Error('launch: name the script to run, e.g. `tessera launch -n 2 train.js`');
    const env = {
      ...process.env,
      WORLD_SIZE: String(nproc),
      // Without ssh (containers), Open MPI 4 refuses to start even local jobs unless its remote agent is unset.
      OMPI_MCA_plm_rsh_agent: process.env.OMPI_MCA_plm_rsh_agent ?? '',
    };
    const r = spawnSync('mpirun', mpirunArgs(nproc!, script, scriptArgs), { stdio: 'inherit', env });
    if (r.error) {
      io.stderr(`launch: could not run mpirun (${(r.error as Error).message}); install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) and rebuild the addon\n`);
      return 1;
    }
    return r.status ?? 1;
  },
});
