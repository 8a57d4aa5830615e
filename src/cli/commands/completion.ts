import { type Command, InvalidArgumentError, type Option } from "commander";
import type { CliIo } from "../context.js";

const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = (typeof SHELLS)[number];

interface Node {
  /** Words from the root: "", "manifest", "manifest get". */
  path: string;
  command: Command;
}

/** Every command and subcommand, so the scripts follow the program as it is. */
function walk(command: Command, prefix = ""): Node[] {
  return [
    { path: prefix, command },
    ...command.commands.flatMap((sub) => walk(sub, prefix ? `${prefix} ${sub.name()}` : sub.name())),
  ];
}

const names = (command: Command) => command.commands.flatMap((sub) => [sub.name(), ...sub.aliases()]);
const flags = (options: readonly Option[]) =>
  options.flatMap((option) => [option.long, option.short].filter((f): f is string => Boolean(f)));
const shellWords = (words: string[]) => words.join(" ").replace(/[^\w ./:@-]/g, "");
const quoted = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;

function bash(root: Command): string {
  const nodes = walk(root);
  const globals = flags(root.options);
  const valued = nodes.flatMap(({ command }) =>
    command.options.filter((o) => o.argChoices?.length).map((o) => [o.long, o.argChoices!] as const),
  );
  const paths = nodes.filter((n) => n.path).map((n) => n.path.replace(/ /g, "\\ "));
  const cases = nodes.map(({ path, command }) => {
    const words = [...names(command), ...flags(command.options), ...globals, "--help"];
    return `    ${quoted(path)}) words=${quoted(shellWords([...new Set(words)]))} ;;`;
  });
  return `# regkit completion for bash: eval "$(regkit completion bash)" or save it in
# ~/.local/share/bash-completion/completions/regkit
_regkit() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path="" i w words=""
  case "$prev" in
${[...new Set(valued.map(([flag, choices]) => `    ${flag}) COMPREPLY=($(compgen -W ${quoted(shellWords([...choices]))} -- "$cur")); return ;;`))].join("\n")}
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    [[ $w == -* ]] && continue
    case "\${path:+$path }$w" in
      ${paths.join("|")}) path="\${path:+$path }$w" ;;
    esac
  done
  case "$path" in
${cases.join("\n")}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _regkit regkit
`;
}

function zsh(root: Command): string {
  // zsh runs bash completion functions through bashcompinit: one generator, both shells.
  return `#compdef regkit
# regkit completion for zsh: save as _regkit in a directory on $fpath, or eval "$(regkit completion zsh)"
autoload -U +X bashcompinit && bashcompinit
${bash(root)}`;
}

function fish(root: Command): string {
  const lines = [
    "# regkit completion for fish: regkit completion fish > ~/.config/fish/completions/regkit.fish",
  ];
  const describe = (text: string) => quoted(text.split("\n")[0] ?? "");
  for (const { path, command } of walk(root)) {
    const words = path ? path.split(" ") : [];
    // A subcommand is offered once its parents were typed and none of its siblings was.
    const after = words.length ? `__fish_seen_subcommand_from ${words.at(-1)}` : "__fish_use_subcommand";
    const siblings = names(command);
    const condition =
      words.length && siblings.length
        ? `${after}; and not __fish_seen_subcommand_from ${siblings.join(" ")}`
        : after;
    for (const sub of command.commands)
      lines.push(
        `complete -c regkit -f -n ${quoted(condition)} -a ${sub.name()} -d ${describe(sub.description())}`,
      );
    for (const option of command.options) {
      const parts = ["complete -c regkit"];
      if (words.length) parts.push(`-n ${quoted(`__fish_seen_subcommand_from ${words.at(-1)}`)}`);
      if (option.long) parts.push(`-l ${option.long.replace(/^--/, "")}`);
      if (option.short) parts.push(`-s ${option.short.replace(/^-/, "")}`);
      if (option.argChoices?.length) parts.push(`-xa ${quoted(option.argChoices.join(" "))}`);
      else if (option.required || option.optional) parts.push("-r");
      parts.push(`-d ${describe(option.description)}`);
      lines.push(parts.join(" "));
    }
  }
  return `${lines.join("\n")}\n`;
}

function parseShell(value: string): Shell {
  if (!(SHELLS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${SHELLS.join(", ")}`);
  return value as Shell;
}

export function registerCompletion(program: Command, io: CliIo): void {
  program
    .command("completion")
    .description("print a shell completion script (bash, zsh or fish)")
    .argument("<shell>", SHELLS.join(", "), parseShell)
    .action((shell: Shell) => {
      const script = { bash, zsh, fish }[shell](program);
      io.stdout.write(script);
    });
}
