"""The README's quick start is what CI runs: two commands, run then test."""

import re
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    text = (PROJECT_DIR / "README.md").read_text()
    heading = re.search(r"^#+\s*quick\s*-?\s*start.*$", text, re.I | re.M)
    assert heading, "README.md has no Quick start section"
    block = re.search(r"^```[^\n]*\n(.*?)^```", text[heading.end() :], re.S | re.M)
    assert block, "the Quick start section has no code block"
    return [line.strip() for line in block[1].splitlines() if line.strip()]


def test_quick_start_opens_with_the_run_and_the_test_command() -> None:
    commands = quick_start_commands()

    assert commands == ["make run", "make test"]


def test_ci_runs_the_readme_test_command_as_written() -> None:
    test_command = quick_start_commands()[1]
    ci_script = (PROJECT_DIR / ".ci" / "run").read_text()

    assert any(line.strip() == test_command for line in ci_script.splitlines())


def test_the_make_targets_call_the_scripts_that_exist() -> None:
    makefile = (PROJECT_DIR / "Makefile").read_text()
    for target in ("run", "test"):
        recipe = re.search(rf"^{target}:\n\t(.+)$", makefile, re.M)
        assert recipe, f"Makefile has no {target} target"
        script = recipe[1].split()[-1]
        assert (PROJECT_DIR / script).is_file(), script
