"""Tests of the self-hosting files (docker-compose.yml, Dockerfile, .env.example), no Docker.

The small readers below parse those files and webmail/settings.py the way Docker Compose,
the Docker build and django-environ do, as far as the tests need: enough to cross-check them.
"""

import ast
import fnmatch
import re
import shlex
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
SETTINGS_FILE = REPO / "webmail" / "settings.py"

# env.<accessor>("NAME", ...) calls that read a variable; env_secret also reads NAME_FILE.
ENV_ACCESSORS = frozenset({"str", "bool", "int", "float", "list", "tuple", "dict", "json", "db"})
ENV_ACCESSORS |= frozenset({"db_url", "url", "cache", "cache_url", "path", "email_url"})


# --- webmail/settings.py -------------------------------------------------------------------


@dataclass(frozen=True)
class SettingRead:
    name: str
    accessor: str  # "str", "bool", "int", ... or "secret"/"secret_file" for env_secret
    line: int


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _reads_in(call: ast.Call) -> list[SettingRead] | None:
    """What one call reads from the environment: [] for none, None for an unreadable name."""
    func = call.func
    first = call.args[0] if call.args else None
    if isinstance(func, ast.Name) and func.id == "env_secret":
        name = _literal(first)
        if name is None:
            return None
        line = call.lineno
        return [SettingRead(name, "secret", line), SettingRead(f"{name}_FILE", "secret_file", line)]
    is_env = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
    if is_env and func.value.id == "env" and func.attr in ENV_ACCESSORS:
        name = _literal(first)
        return None if name is None else [SettingRead(name, func.attr, call.lineno)]
    if is_env and func.value.id == "os" and func.attr == "getenv":
        name = _literal(first)
        return None if name is None else [SettingRead(name, "str", call.lineno)]
    return []


@cache
def settings_reads() -> tuple[tuple[SettingRead, ...], tuple[int, ...]]:
    """Every variable settings.py reads, and the lines of reads whose name is not a literal.

    The body of env_secret() itself is left out: it reads f"{name}_FILE", which the
    env_secret("NAME") calls stand for.
    """
    tree = ast.parse(SETTINGS_FILE.read_text(), filename=str(SETTINGS_FILE))
    helper_lines: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "env_secret":
            helper_lines = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    reads: list[SettingRead] = []
    unreadable: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or node.lineno in helper_lines:
            continue
        found = _reads_in(node)
        if found is None:
            unreadable.append(node.lineno)
        else:
            reads.extend(found)
    return tuple(reads), tuple(unreadable)


def settings_variables() -> set[str]:
    return {read.name for read in settings_reads()[0]}


# --- .env.example --------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"^(#?)([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


@dataclass(frozen=True)
class EnvEntry:
    name: str
    value: str
    active: bool  # NAME=value; False for an optional, commented-out #NAME=default
    comment: str  # the comment line right above it, "" if none
    line: int


def env_example_entries(path: Path = ENV_EXAMPLE) -> list[EnvEntry]:
    entries: list[EnvEntry] = []
    previous = ""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = _ASSIGNMENT.match(line)
        if match:
            marker, name, value = match.groups()
            comment = previous[1:].strip() if previous.startswith("# ") else ""
            entries.append(EnvEntry(name, value, not marker, comment, number))
        previous = line
    return entries


def env_example() -> dict[str, EnvEntry]:
    return {entry.name: entry for entry in env_example_entries()}


def env_example_values() -> dict[str, str]:
    """What a .env copied from .env.example sets (the active lines only)."""
    return {entry.name: entry.value for entry in env_example_entries() if entry.active}


# --- docker-compose.yml --------------------------------------------------------------------

_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?+])[^}]*)?\}|\$([A-Za-z_]\w*)")


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


def service(name: str) -> dict[str, Any]:
    services = compose().get("services") or {}
    assert name in services, f"docker-compose.yml has no service {name!r}"
    return services[name]


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [text for value in node.values() for text in _strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in _strings(value)]
    return [node] if isinstance(node, str) else []


def compose_strings() -> list[str]:
    """Every string value of docker-compose.yml, where Compose interpolates (not comments)."""
    return _strings(compose())


def compose_variables() -> set[str]:
    """Every variable docker-compose.yml interpolates (`$$` is a literal dollar)."""
    names = set()
    for text in compose_strings():
        for match in _REFERENCE.finditer(text):
            if match.group(1) or match.group(3):
                names.add(match.group(1) or match.group(3))
    return names


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's interpolation: ${X}, ${X:-default}, ${X-default}, ${X:?err}, ${X?err}, $$."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(3)
        modifier = match.group(2) or ""
        value = variables.get(name)
        operator = modifier[:2] if modifier.startswith(":") else modifier[:1]
        argument = modifier[len(operator) :]
        empty = value is None or (operator.startswith(":") and value == "")
        if operator.endswith("-"):
            return argument if empty else str(value)
        if operator.endswith("?"):
            if empty:
                raise ValueError(f"compose would stop: {name}: {argument}")
            return str(value)
        if operator.endswith("+"):
            return "" if empty else argument
        return value or ""

    return _REFERENCE.sub(substitute, text)


def service_environment(name: str, env_file_values: dict[str, str]) -> dict[str, str]:
    """The environment a service's container gets: image ENV < env_file < environment."""
    svc = service(name)
    result = dockerfile_env() if "build" in svc else {}
    if svc.get("env_file"):
        result.update(env_file_values)
    environment = svc.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    for key, value in environment.items():
        result[key] = interpolate(str(value), env_file_values)
    return result


def command_args(name: str) -> list[str]:
    command = service(name).get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]


def option_value(args: list[str], *names: str) -> str | None:
    """The value of a command-line option, as `--opt=v`, `--opt v`, `-o v` or `-ov`."""
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                return args[index + 1]
            if name.startswith("--") and arg.startswith(f"{name}="):
                return arg.split("=", 1)[1]
            if not name.startswith("--") and arg.startswith(name) and len(arg) > len(name):
                return arg[len(name) :].lstrip("=")
    return None


# --- Dockerfile ----------------------------------------------------------------------------


@cache
def dockerfile_instructions() -> tuple[tuple[str, str], ...]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return tuple(instructions)


def dockerfile_args(keyword: str) -> list[str]:
    return [args for word, args in dockerfile_instructions() if word == keyword]


def dockerfile_env() -> dict[str, str]:
    """The ENV values of the image (both `ENV K=V ...` and the legacy `ENV K V`)."""
    values: dict[str, str] = {}
    for arguments in dockerfile_args("ENV"):
        words = shlex.split(arguments)
        if words and "=" not in words[0]:
            values[words[0]] = " ".join(words[1:])
            continue
        values.update(word.split("=", 1) for word in words)
    return values


def dockerfile_arg_names() -> set[str]:
    return {args.split("=", 1)[0].strip() for args in dockerfile_args("ARG")}


def dockerfile_workdir() -> str:
    workdirs = dockerfile_args("WORKDIR")
    assert workdirs, "the Dockerfile sets no WORKDIR"
    return workdirs[-1]


def image_path_to_repo(path: str, root: Path = REPO) -> Path | None:
    """The file of root that `COPY . .` puts at `path` in the image, if it is under WORKDIR."""
    workdir = dockerfile_workdir().rstrip("/") + "/"
    return root / path[len(workdir) :] if path.startswith(workdir) else None


# --- The build context ---------------------------------------------------------------------


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and line[0] != "#"]


def dockerignored(relative: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern.startswith("!"):
            raise NotImplementedError("exceptions in .dockerignore: teach copy_build_context")
        if pattern.startswith("**/"):
            if fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], pattern[3:]):
                return True
        elif fnmatch.fnmatchcase(relative, pattern):
            return True
    return False


def copy_build_context(destination: Path) -> Path:
    """Copies what `docker build .` would send (the repository less .dockerignore)."""
    patterns = dockerignore_patterns()

    def ignore(folder: str, names: list[str]) -> set[str]:
        prefix = Path(folder).relative_to(REPO).as_posix()
        prefix = "" if prefix == "." else f"{prefix}/"
        return {name for name in names if dockerignored(prefix + name, patterns)}

    shutil.copytree(REPO, destination, ignore=ignore, symlinks=True)
    return destination
