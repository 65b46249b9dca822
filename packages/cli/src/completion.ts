import type { Command } from 'commander';

/**
 * Shell completion scripts, written from the command tree itself (commander
 * has none of its own), so they can never name a command or an option that
 * does not exist. They are static: pressing Tab runs no `legim` process, so
 * it stays instant. A word is completed as a subcommand, as an option of the
 * command typed so far (after `-`), and otherwise, or as the value of an
 * option that takes one, as a file name, which the shell does.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface OptionSpec {
  /** `--downloads`, `-d`. */
  flags: string[];
  takesValue: boolean;
  description: string;
}

interface CommandSpec {
  /** `''` for the program, `config set` for a subcommand of a subcommand. */
  path: string;
  /** The words that lead to a subcommand (its name and aliases), with its description and path. */
  commands: Array<{ name: string; description: string; path: string }>;
  options: OptionSpec[];
  /** Values the first argument takes, when it is a closed list (`completion bash|zsh|fish`). */
  choices: string[];
}

const HELP: OptionSpec = { flags: ['--help', '-h'], takesValue: false, description: 'show the help' };

/** Every command of the tree, the program first. */
export function commandSpecs(program: Command): CommandSpec[] {
  const specs: CommandSpec[] = [];
  const visit = (command: Command, path: string): void => {
    const subcommands = command.commands.filter((sub) => !isHidden(sub));
    const pathOf = (sub: Command): string => (path === '' ? sub.name() : `${path} ${sub.name()}`);
    specs.push({
      path,
      commands: subcommands.flatMap((sub) =>
        [sub.name(), ...sub.aliases()].map((name) => ({
          name,
          description: summary(sub.description()),
          path: pathOf(sub),
        })),
      ),
      options: [
        ...command.options
          .filter((option) => !option.hidden)
          .map((option) => ({
            flags: [option.long, option.short].filter((flag): flag is string => flag !== undefined),
            takesValue: option.required || option.optional,
            description: summary(option.description),
          })),
        HELP,
      ],
      choices: command.registeredArguments[0]?.argChoices ?? [],
    });
    for (const sub of subcommands) visit(sub, pathOf(sub));
  };
  visit(program, '');
  return specs;
}

export function completionScript(shell: Shell, program: Command): string {
  const specs = commandSpecs(program);
  const name = program.name();
  switch (shell) {
    case 'bash':
      return bashScript(name, specs);
    case 'zsh':
      return zshScript(name, specs);
    case 'fish':
      return fishScript(name, specs);
  }
}

/** The options every command accepts: the program's own (commander reads them anywhere on the line). */
function globalOptions(specs: CommandSpec[]): OptionSpec[] {
  return specs[0]!.options.filter((option) => option !== HELP && !option.flags.includes('--version'));
}

/** The flags of `options` that take a value. */
function valueFlags(options: OptionSpec[]): string[] {
  return [...new Set(options.filter((option) => option.takesValue).flatMap((option) => option.flags))];
}

/** The shell function (bash, zsh) that tells whether `$2` takes a value after the command path `$1`. */
function takesValueFunction(fn: string, specs: CommandSpec[], globals: OptionSpec[]): string {
  const own = specs
    .filter((spec) => spec.path !== '')
    .map((spec) => ({ spec, flags: valueFlags(spec.options) }))
    .filter(({ flags }) => flags.length > 0)
    .map(({ spec, flags }) => `    ${quote(spec.path)}) case "$2" in ${flags.join('|')}) return 0 ;; esac ;;`);
  return `${fn}() {
  case "$2" in ${valueFlags(globals).join('|')}) return 0 ;; esac
  case "$1" in
${own.join('\n')}
  esac
  return 1
}`;
}

function allFlags(spec: CommandSpec, globals: OptionSpec[]): string[] {
  const own = spec.options.flatMap((option) => option.flags);
  return [...new Set([...own, ...(spec.path === '' ? [] : globals.flatMap((option) => option.flags))])].filter((flag) =>
    flag.startsWith('--'),
  );
}

// ---------------------------------------------------------------- bash

function bashScript(name: string, specs: CommandSpec[]): string {
  const globals = globalOptions(specs);
  const fn = `_${identifier(name)}_completion`;
  const moves = specs.flatMap((spec) =>
    spec.commands.map((command) => `      ${quote(`${spec.path}|${command.name}`)}) cmdpath=${quote(command.path)} ;;`),
  );
  const words = specs.map((spec) => {
    const options = allFlags(spec, globals).join(' ');
    const commands = spec.commands.map((command) => command.name).join(' ');
    return [
      `    ${quote(spec.path)})`,
      `      opts=${quote(options)}`,
      `      cmds=${quote(commands || spec.choices.join(' '))}`,
      '      ;;',
    ].join('\n');
  });
  return `# bash completion for ${name}, written by "${name} completion bash".
# Now:            source <(${name} completion bash)
# Every session:  ${name} completion bash > ~/.local/share/bash-completion/completions/${name}
${takesValueFunction(`${fn}_takes_value`, specs, globals)}

${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmdpath="" word i skip=0 opts="" cmds=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if ((skip)); then
      skip=0
      continue
    fi
    case "$word" in
      -*)
        ${fn}_takes_value "$cmdpath" "$word" && skip=1
        continue
        ;;
    esac
    case "$cmdpath|$word" in
${moves.join('\n')}
    esac
  done
  # The value of an option: a file name (complete -o default), or whatever the user types.
  if ${fn}_takes_value "$cmdpath" "$prev"; then
    return 0
  fi
  case "$cmdpath" in
${words.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -n "$cmds" ]]; then
    COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
  fi
  # Nothing above: bash completes a file name (complete -o default).
  return 0
}

complete -o default -F ${fn} ${name}
`;
}

// ---------------------------------------------------------------- zsh

function zshScript(name: string, specs: CommandSpec[]): string {
  const globals = globalOptions(specs);
  const fn = `_${identifier(name)}`;
  const moves = specs.flatMap((spec) =>
    spec.commands.map((command) => `      ${quote(`${spec.path}|${command.name}`)}) cmdpath=${quote(command.path)} ;;`),
  );
  const entries = specs.map((spec) => {
    const options = [...spec.options, ...(spec.path === '' ? [] : globals)]
      .filter((option, index, all) => all.findIndex((o) => o.flags[0] === option.flags[0]) === index)
      .flatMap((option) =>
        option.flags.filter((flag) => flag.startsWith('--')).map((flag) => `${flag}:${option.description}`),
      );
    const commands =
      spec.commands.length > 0
        ? spec.commands.map((command) => `${command.name}:${command.description}`)
        : spec.choices.map((choice) => `${choice}:`);
    return [
      `    ${quote(spec.path)})`,
      `      opts=(${options.map(quote).join(' ')})`,
      `      cmds=(${commands.map(quote).join(' ')})`,
      '      ;;',
    ].join('\n');
  });
  return `#compdef ${name}
# zsh completion for ${name}, written by "${name} completion zsh".
# Now (after compinit):  source <(${name} completion zsh)
# Every session:         ${name} completion zsh > "\${fpath[1]}/_${name}"
${takesValueFunction(`${fn}_takes_value`, specs, globals)}

${fn}() {
  # Not "options", "commands" or "path": zsh's own parameters.
  local cmdpath="" word i skip=0
  local -a opts cmds
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    if ((skip)); then
      skip=0
      continue
    fi
    case "$word" in
      -*)
        ${fn}_takes_value "$cmdpath" "$word" && skip=1
        continue
        ;;
    esac
    case "$cmdpath|$word" in
${moves.join('\n')}
    esac
  done
  if ${fn}_takes_value "$cmdpath" "\${words[CURRENT-1]}"; then
    _files
    return
  fi
  case "$cmdpath" in
${entries.join('\n')}
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    _describe -t options 'option' opts
  elif (( \${#cmds} > 0 )); then
    _describe -t commands 'command' cmds
  else
    _files
  fi
}

if [[ "\${funcstack[1]}" == "${fn}" ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}

// ---------------------------------------------------------------- fish

function fishScript(name: string, specs: CommandSpec[]): string {
  const globals = globalOptions(specs);
  const id = identifier(name);
  const moves = specs.flatMap((spec) => spec.commands.map((command) => `${spec.path}|${command.name}|${command.path}`));
  const valued = specs
    .filter((spec) => spec.path !== '')
    .flatMap((spec) => valueFlags(spec.options).map((flag) => `${spec.path}|${flag}`));
  const lines: string[] = [];
  for (const option of globals) lines.push(fishOption(name, undefined, option));
  for (const spec of specs) {
    const at = `"__${id}_at ${fishQuote(spec.path)}"`;
    for (const command of spec.commands) {
      lines.push(`complete -c ${name} -n ${at} -f -a ${fishQuote(command.name)} -d ${fishQuote(command.description)}`);
    }
    if (spec.commands.length === 0 && spec.choices.length > 0) {
      lines.push(`complete -c ${name} -n ${at} -f -a ${fishQuote(spec.choices.join(' '))}`);
    }
    if (spec.path === '') continue;
    for (const option of spec.options) lines.push(fishOption(name, at, option));
  }
  return `# fish completion for ${name}, written by "${name} completion fish".
# Now:            ${name} completion fish | source
# Every session:  ${name} completion fish > ~/.config/fish/completions/${name}.fish
set -g __${id}_moves ${moves.map(fishQuote).join(' ')}
set -g __${id}_valued ${valued.map(fishQuote).join(' ')}
set -g __${id}_global_valued ${valueFlags(globals).map(fishQuote).join(' ')}

# The command typed so far ('' for none, 'config set'), skipping options and their values.
function __${id}_path
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmdpath ''
    set -l skip 0
    for word in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $word
            if contains -- $word $__${id}_global_valued; or contains -- "$cmdpath|$word" $__${id}_valued
                set skip 1
            end
            continue
        end
        for move in $__${id}_moves
            set -l parts (string split '|' -- $move)
            if test "$parts[1]" = "$cmdpath"; and test "$parts[2]" = "$word"
                set cmdpath $parts[3]
                break
            end
        end
    end
    echo $cmdpath
end

function __${id}_at
    test (__${id}_path) = "$argv[1]"
end

${lines.join('\n')}
`;
}

function fishOption(name: string, condition: string | undefined, option: OptionSpec): string {
  const parts = [`complete -c ${name}`];
  if (condition !== undefined) parts.push(`-n ${condition}`);
  for (const flag of option.flags) {
    if (flag.startsWith('--')) parts.push(`-l ${flag.slice(2)}`);
    else parts.push(`-s ${flag.slice(1)}`);
  }
  if (option.takesValue) parts.push('-r');
  parts.push(`-d ${fishQuote(option.description)}`);
  return parts.join(' ');
}

// ---------------------------------------------------------------- helpers

function isHidden(command: Command): boolean {
  return (command as unknown as { _hidden?: boolean })._hidden === true;
}

/** The first clause of a description, short enough for a completion menu. */
function summary(description: string): string {
  const first = description.split(/: |; | \(/)[0]!.trim();
  return first.length > 70 ? `${first.slice(0, 69)}…` : first;
}

function identifier(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Single quotes for bash and zsh. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Single quotes for fish, where `\\` and `\\'` are the escapes. */
function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
