import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, sandbox, type Sandbox } from './helpers.js';

const has = (program: string): boolean => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;

/** Runs `script` in `shell` and returns its stdout; fails the test on a non-zero exit. */
function run(shell: string, args: string[]): string {
  const result = spawnSync(shell, args, { encoding: 'utf8', env: { ...process.env, HOME: process.env.HOME } });
  expect(result.status, `${shell} ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

/** `legim completion bash|zsh|fish`: scripts each shell accepts, and that complete what the CLI has. */
describe('legim completion', () => {
  let box: Sandbox;
  const scripts: Record<string, string> = {};

  beforeAll(async () => {
    box = sandbox();
    for (const shell of ['bash', 'zsh', 'fish']) {
      const printed = await runCli(['completion', shell], { env: box.env });
      expect(printed.code, printed.stderr).toBe(0);
      expect(printed.stderr).toBe('');
      scripts[shell] = join(box.dir, `legim.${shell}`);
      writeFileSync(scripts[shell], printed.stdout);
    }
  });
  afterAll(() => box?.cleanup());

  it('bash accepts the bash script (bash -n) and it completes commands, subcommands and options', () => {
    run('bash', ['-n', scripts.bash!]);
    const complete = (...words: string[]): string =>
      run('bash', [
        '-c',
        `source "$0"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _legim_completion; echo "\${COMPREPLY[*]}"`,
        scripts.bash!,
      ]).trim();
    expect(complete('legim', 'up')).toBe('up upload');
    expect(complete('legim', 'config', '')).toBe('set get ls use path');
    expect(complete('legim', '--profile', 'second', 'config', 'u')).toBe('use');
    expect(complete('legim', 'upload', '--ttl', '1h', '--q')).toBe('--quiet');
    expect(complete('legim', 'delete', '--to')).toBe('--token');
    expect(complete('legim', 'completion', '')).toBe('bash zsh fish');
    // A file argument or an option's value: bash's own file name completion (complete -o default).
    expect(complete('legim', 'upload', '')).toBe('');
    expect(complete('legim', 'download', 'x', '-o', '')).toBe('');
  });

  it.skipIf(!has('zsh'))('zsh accepts the zsh script (zsh -n) and it completes subcommands', () => {
    run('zsh', ['-n', scripts.zsh!]);
    const probe = join(box.dir, 'probe.zsh');
    writeFileSync(
      probe,
      [
        'compdef() { :; }',
        `source ${scripts.zsh}`,
        '_describe() { print -r -- "${(P)${@[-1]}}"; }',
        '_files() { print files; }',
        'words=(legim config ""); CURRENT=3; _legim',
        'words=(legim upload ""); CURRENT=3; _legim',
      ].join('\n'),
    );
    const [config, upload] = run('zsh', [probe]).trim().split('\n');
    expect(config).toMatch(/^set:store a setting get:.* use:make a profile the default/);
    expect(upload).toBe('files');
  });

  it.skipIf(!has('fish'))('fish accepts the fish script (fish -n) and it completes subcommands', () => {
    run('fish', ['-n', scripts.fish!]);
    const out = run('fish', [
      '-c',
      `source ${scripts.fish}; complete -C'legim config '; complete -C'legim upload --qu'`,
    ]);
    expect(out).toMatch(/^use\tmake a profile the default/m);
    expect(out).toMatch(/^--quiet\tprint only the link/m);
  });

  it('refuses a shell it does not know', async () => {
    const refused = await runCli(['completion', 'tcsh'], { env: box.env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/bash, zsh, fish/);
  });
});
