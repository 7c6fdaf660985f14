"""The systemd unit examples in deploy/systemd run what exists: every `manage.py`
command they name is one of the project's commands, with options it accepts, and
gunicorn starts from the project's configuration."""

import shlex
from pathlib import Path

from django.core.management import get_commands, load_command_class

import pytest

UNITS = sorted((Path(__file__).resolve().parent.parent / "deploy" / "systemd").glob("*.service"))


def exec_starts(path):
    # systemd allows ExecStart= several times (oneshot units): keep every one.
    lines = [line for line in path.read_text().splitlines() if line.startswith("ExecStart=")]
    assert lines, f"{path.name} starts nothing"
    return [shlex.split(line.split("=", 1)[1]) for line in lines]


def test_there_are_units_for_the_app_the_worker_and_the_expiry_loop():
    names = {path.name for path in UNITS}
    assert {"xuefa-web.service", "xuefa-worker.service", "xuefa-expiry.service"} <= names


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_command_of_a_unit_exists_and_accepts_its_options(unit):
    commands = get_commands()
    for argv in exec_starts(unit):
        if argv[0].endswith("/gunicorn"):
            assert argv[1:] == ["-c", "gunicorn.conf.py"]
            continue
        assert argv[1] == "manage.py", argv
        name, options = argv[2], argv[3:]
        assert name in commands, f"{unit.name}: no command {name}"
        if options:
            command = load_command_class(commands[name], name)
            command.create_parser("manage.py", name).parse_args(options)
