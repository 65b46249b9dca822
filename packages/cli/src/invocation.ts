/**
 * How the user started this CLI, so every command it prints can be pasted
 * back as it is: `npx legim` when run through npx (which sets
 * `npm_command=exec`), `legim` when it is on the PATH.
 */
export function cliName(): string {
  return process.env.npm_command === 'exec' ? 'npx legim' : 'legim';
}
