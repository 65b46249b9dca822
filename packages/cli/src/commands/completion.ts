import { Argument, type Command } from 'commander';
import { SHELLS, completionScript, type Shell } from '../completion.js';
import { print } from '../output.js';

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(SHELLS))
    .addHelpText(
      'after',
      `
Load it in the current shell, or save it where the shell looks for completions:
  source <(legim completion bash)      legim completion bash > ~/.local/share/bash-completion/completions/legim
  source <(legim completion zsh)       legim completion zsh > "\${fpath[1]}/_legim"   (after compinit)
  legim completion fish | source       legim completion fish > ~/.config/fish/completions/legim.fish
`,
    )
    .action((shell: Shell) => {
      // The root of the tree, wherever this command hangs.
      let root = program;
      while (root.parent) root = root.parent;
      print(completionScript(shell, root).trimEnd());
    });
}
