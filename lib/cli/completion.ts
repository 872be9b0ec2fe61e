/**
 * `sluice completion bash|zsh`: shell completion scripts generated from the program's own declarations, so a
 * new command or option completes without touching this file. Pipeline names complete from the
 * `pipelines/` folder of `$SLUICE_PROJECT_DIR`, else of the current directory (folders with a pipeline.yaml).
 */
import type { Command, Option } from "commander";

export const COMPLETION_SHELLS = ["bash", "zsh"] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

export function isCompletionShell(value: string): value is CompletionShell {
  return (COMPLETION_SHELLS as readonly string[]).includes(value);
}

/** What a positional argument completes to. */
type OperandKind = { kind: "pipeline" } | { kind: "file" } | { kind: "choices"; choices: readonly string[] } | { kind: "none" };

interface CompletedOption {
  flag: string;
  description: string;
  takesValue: boolean;
  /** The value is a path: complete files. */
  path: boolean;
  repeatable: boolean;
}

interface CompletedCommand {
  /** `run`, or `profile from-terraform` for a nested command. */
  path: string;
  name: string;
  description: string;
  options: CompletedOption[];
  operand: OperandKind;
  subcommands: CompletedCommand[];
}

export function completionScript(shell: CompletionShell, program: Command): string {
  const commands = program.commands.map((command) => describeCommand(command, ""));
  const globals = visibleOptions(program);
  return shell === "bash" ? bashScript(commands, globals) : zshScript(commands, globals);
}

function describeCommand(command: Command, parentPath: string): CompletedCommand {
  const path = parentPath === "" ? command.name() : `${parentPath} ${command.name()}`;
  return {
    path,
    name: command.name(),
    description: command.description(),
    options: visibleOptions(command),
    operand: operandOf(command),
    subcommands: command.commands.map((sub) => describeCommand(sub, path)),
  };
}

function visibleOptions(command: Command): CompletedOption[] {
  const declared = command.options.filter((option) => !option.hidden && option.long !== undefined);
  const help: CompletedOption = { flag: "--help", description: "show the help of this command", takesValue: false, path: false, repeatable: false };
  return [...declared.map(describeOption), help];
}

function describeOption(option: Option): CompletedOption {
  return {
    flag: option.long ?? "",
    description: option.description,
    takesValue: option.required || option.optional,
    path: /<[^>]*(path|file)[^>]*>/.test(option.flags),
    repeatable: /\brepeatable\b/.test(option.description),
  };
}

function operandOf(command: Command): OperandKind {
  const first = command.registeredArguments[0];
  if (first === undefined) return { kind: "none" };
  if (first.argChoices !== undefined) return { kind: "choices", choices: first.argChoices };
  if (first.name() === "pipeline") return { kind: "pipeline" };
  if (/file|path|outputs/.test(first.name())) return { kind: "file" };
  return { kind: "none" };
}

function allCommands(commands: CompletedCommand[]): CompletedCommand[] {
  return commands.flatMap((command) => [command, ...allCommands(command.subcommands)]);
}

// bash

function bashScript(commands: CompletedCommand[], globals: CompletedOption[]): string {
  const topLevel = [...commands.map((c) => c.name), "help", ...globals.map((o) => o.flag)];
  const cases = allCommands(commands).map((command) => bashCase(command, globals)).join("\n");
  const nested = commands.filter((c) => c.subcommands.length > 0).map((c) => c.name);
  return `# bash completion for sluice. Load it with: source <(sluice completion bash)
# or save it as /etc/bash_completion.d/sluice (or ~/.local/share/bash-completion/completions/sluice).

_sluice_pipelines() {
  local dir names=()
  for dir in "\${SLUICE_PROJECT_DIR:-.}"/pipelines/*/; do
    [[ -f "\${dir}pipeline.yaml" ]] && names+=("$(basename "$dir")")
  done
  COMPREPLY=($(compgen -W "\${names[*]}" -- "$1"))
}

_sluice() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path="" word i
  # The command path: the words before the cursor that are not options (${nested.length > 0 ? `${nested.join(", ")} take a subcommand` : "no command takes a subcommand"}).
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    [[ $word == -* ]] && continue
    if [[ -z $path ]]; then
      path=$word
    elif [[ ${bashAlternatives(nested)} && $path != *" "* ]]; then
      path="$path $word"
    fi
  done
  case $path in
    "")
      COMPREPLY=($(compgen -W "${topLevel.join(" ")}" -- "$cur"))
      ;;
    help)
      COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(" ")}" -- "$cur"))
      ;;
${cases}
  esac
}

complete -o default -F _sluice sluice
`;
}

/** `$path == profile || $path == other`: the commands whose next word is a subcommand. */
function bashAlternatives(names: string[]): string {
  return names.length === 0 ? "-n ''" : `( ${names.map((name) => `$path == ${name}`).join(" || ")} )`;
}

function bashCase(command: CompletedCommand, globals: CompletedOption[]): string {
  const options = [...command.options, ...globals.filter((g) => g.flag !== "--help")];
  const valueFlags = options.filter((o) => o.takesValue && !o.path).map((o) => o.flag);
  const pathFlags = options.filter((o) => o.takesValue && o.path).map((o) => o.flag);
  const lines: string[] = [];
  if (pathFlags.length > 0) lines.push(`      case $prev in ${pathFlags.join("|")}) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac`);
  // After an option that takes a value there is nothing to offer but the user's own value.
  if (valueFlags.length > 0) lines.push(`      case $prev in ${valueFlags.join("|")}) COMPREPLY=(); return ;; esac`);
  lines.push(`      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "${options.map((o) => o.flag).join(" ")}" -- "$cur")); return; fi`);
  if (command.subcommands.length > 0) {
    lines.push(`      COMPREPLY=($(compgen -W "${command.subcommands.map((s) => s.name).join(" ")}" -- "$cur"))`);
  } else {
    switch (command.operand.kind) {
      case "pipeline":
        lines.push(`      _sluice_pipelines "$cur"`);
        break;
      case "file":
        lines.push(`      COMPREPLY=($(compgen -f -- "$cur"))`);
        break;
      case "choices":
        lines.push(`      COMPREPLY=($(compgen -W "${command.operand.choices.join(" ")}" -- "$cur"))`);
        break;
      case "none":
        lines.push(`      COMPREPLY=()`);
        break;
    }
  }
  return `    "${command.path}")\n${lines.join("\n")}\n      ;;`;
}

// zsh

function zshScript(commands: CompletedCommand[], globals: CompletedOption[]): string {
  const globalSpecs = globals.map((o) => `    ${zshOptionSpec(o, true)} \\`).join("\n");
  const commandList = [...commands, { name: "help", description: "list the commands, or show the help of one" }]
    .map((c) => `    ${zshQuote(`${c.name}:${c.description}`)}`)
    .join("\n");
  const cases = commands.map((command) => zshCase(command, 4)).join("\n");
  return `#compdef sluice
# zsh completion for sluice. Save it as _sluice in a folder of $fpath (sluice completion zsh > ~/.zfunc/_sluice),
# or load it in the current shell with: source <(sluice completion zsh)

_sluice_pipelines() {
  local -a names
  names=(\${SLUICE_PROJECT_DIR:-.}/pipelines/*/pipeline.yaml(N:h:t))
  _describe -t pipelines 'pipeline' names
}

_sluice_help_topics() {
  local -a topics
  topics=(${commands.map((c) => zshQuote(c.name)).join(" ")})
  _describe -t commands 'command' topics
}

_sluice() {
  local curcontext=$curcontext state line
  typeset -A opt_args
  local -a commands
  commands=(
${commandList}
  )
  _arguments -C \\
${globalSpecs}
    '1: :->command' \\
    '*:: :->args' && return
  case $state in
    command)
      _describe -t commands 'sluice command' commands
      ;;
    args)
      case $words[1] in
        help)
          _sluice_help_topics
          ;;
${cases}
      esac
      ;;
  esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _sluice "$@"
else
  compdef _sluice sluice
fi
`;
}

function zshCase(command: CompletedCommand, depth: number): string {
  const pad = " ".repeat(depth * 2);
  const specs = command.options.map((o) => zshOptionSpec(o, false));
  if (command.subcommands.length > 0) {
    const list = command.subcommands.map((s) => zshQuote(`${s.name}:${s.description}`)).join(" ");
    const inner = command.subcommands.map((sub) => zshCase(sub, depth + 3)).join("\n");
    return `${pad}${command.name})
${pad}  if (( CURRENT == 2 )); then
${pad}    local -a subcommands
${pad}    subcommands=(${list})
${pad}    _describe -t commands 'subcommand' subcommands
${pad}  else
${pad}    shift words
${pad}    (( CURRENT-- ))
${pad}    case $words[1] in
${inner}
${pad}    esac
${pad}  fi
${pad}  ;;`;
  }
  const operand = zshOperandSpec(command.operand);
  const all = [...specs, ...(operand === null ? [] : [operand])];
  return `${pad}${command.name})
${pad}  _arguments \\
${all.map((spec) => `${pad}    ${spec}`).join(" \\\n")}
${pad}  ;;`;
}

function zshOptionSpec(option: CompletedOption, global: boolean): string {
  // --help and --version end the command line: nothing else is offered with them.
  const exclusive = option.flag === "--help" || option.flag === "--version" ? "(- *)" : "";
  const repeat = option.repeatable ? "*" : "";
  const value = !option.takesValue ? "" : option.path ? `:${option.flag.slice(2)}:_files` : `:${option.flag.slice(2)}: `;
  const description = global && option.flag === "--help" ? "show the help" : option.description;
  return zshQuote(`${exclusive}${repeat}${option.flag}[${zshBracketText(description)}]${value}`);
}

function zshOperandSpec(operand: OperandKind): string | null {
  switch (operand.kind) {
    case "pipeline":
      return zshQuote("1:pipeline:_sluice_pipelines");
    case "file":
      return zshQuote("1:file:_files");
    case "choices":
      return zshQuote(`1:value:(${operand.choices.join(" ")})`);
    case "none":
      return null;
  }
}

/** Text inside an `_arguments` `[...]` description: brackets would end it early. */
function zshBracketText(text: string): string {
  return text.replace(/[[\]]/g, (c) => `\\${c}`);
}

/** A single-quoted shell word. */
function zshQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
