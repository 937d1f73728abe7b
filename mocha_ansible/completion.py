"""Shell completion scripts (bash, zsh) generated from the argparse parser itself."""

from __future__ import annotations

import argparse


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(s for action in parser._actions for s in action.option_strings if s.startswith("--"))


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def bash(parser: argparse.ArgumentParser) -> str:
    commands = _subparsers(parser)
    names = " ".join(commands)
    cases = "\n".join(
        f'    {name}) COMPREPLY=($(compgen -W "{" ".join(_options(sub))}" -- "$cur")) ;;'
        for name, sub in commands.items()
    )
    return f"""# bash completion for mocha-ansible: eval "$(mocha-ansible completion bash)"
_mocha_ansible() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} cmd="" word
  for word in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
    case " {names} " in *" $word "*) cmd=$word; break ;; esac
  done
  case $cmd in
    "") COMPREPLY=($(compgen -W "{names} {" ".join(_options(parser))}" -- "$cur")) ;;
{cases}
  esac
}}
complete -F _mocha_ansible mocha-ansible
"""


def zsh(parser: argparse.ArgumentParser) -> str:
    return (
        '# zsh completion for mocha-ansible: eval "$(mocha-ansible completion zsh)"\n'
        "autoload -U +X bashcompinit && bashcompinit\n" + bash(parser).split("\n", 1)[1]
    )
