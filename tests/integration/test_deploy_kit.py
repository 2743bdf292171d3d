"""The deployment kit in deploy/: the systemd units parse (systemd-analyze verify when present, and a
strict parse of the keys they use), each ExecStart runs a command that exists, no secret is written
in a unit, the environment file names only known settings, and nginx accepts the site config."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest
import trustme

from config.settings import ENV_VARS
from tests.support import VIGIE
from vigie.cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
UNITS = ["vigie-web.service", "vigie-collector@.service"]
VENV_BIN = "/opt/vigie/.venv/bin"

# The keys the units may use, per section (systemd.unit, systemd.service, systemd.exec, systemd.kill).
KEYS = {
    "Unit": {"Description", "Documentation", "Wants", "After", "Requires"},
    "Service": {
        "Type", "User", "Group", "EnvironmentFile", "Environment", "WorkingDirectory", "ExecStart", "ExecReload",
        "KillMode", "KillSignal", "TimeoutStopSec", "Restart", "RestartSec", "RestartPreventExitStatus",
        "StateDirectory", "StateDirectoryMode", "ReadWritePaths", "NoNewPrivileges", "ProtectSystem", "ProtectHome",
        "PrivateTmp", "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
        "ProtectControlGroups", "ProtectClock", "ProtectHostname", "RestrictAddressFamilies", "RestrictNamespaces",
        "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality", "CapabilityBoundingSet",
        "SystemCallArchitectures", "SystemCallFilter", "UMask",
    },
    "Install": {"WantedBy"},
}
REPEATABLE = {"Environment", "After", "Wants"}
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
             "ReadWritePaths": "/var/lib/vigie", "EnvironmentFile": "/etc/vigie/vigie.env"}


def _parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A strict reading of a unit file: sections and keys we know, every line a comment, a section
    header or KEY=VALUE, no key twice unless systemd allows it."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        where = f"{path.name}:{number}"
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            assert header.group(1) in KEYS and header.group(1) not in sections, f"{where}: section {line}"
            current = sections.setdefault(header.group(1), {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None and key == key.strip() and re.fullmatch(r"[A-Za-z]+", key), where
        section = next(name for name, keys in sections.items() if keys is current)
        assert key in KEYS[section], f"{where}: unknown key {key} in [{section}]"
        assert key in REPEATABLE or key not in current, f"{where}: {key} twice"
        assert not line.endswith("\\"), f"{where}: continued line"
        current.setdefault(key, []).append(value)
    return sections


def _click_path(words: list[str]) -> bool:
    command: click.Command = cli_main
    for word in words:
        if word.startswith("-"):
            break
        assert isinstance(command, click.Group), words
        if word not in command.commands:
            return False
        command = command.commands[word]
    return True


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_parses_hardened_without_secrets_and_runs_a_real_command(name: str) -> None:
    unit = _parse_unit(DEPLOY / name)
    service = unit["Service"]
    for key, value in HARDENING.items():
        assert service[key] == [value], (name, key)
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]
    text = (DEPLOY / name).read_text()
    assert not re.search(r"(SECRET|PASSWORD|DATABASE_URL|TOKEN)\w*=", text), "secrets belong in /etc/vigie/vigie.env"
    [exec_start] = service["ExecStart"]
    program, *args = shlex.split(exec_start)
    assert program.startswith(f"{VENV_BIN}/")
    local = str(Path(VIGIE).parent / Path(program).name)
    if Path(program).name == "vigie":
        assert _click_path(args), f"{exec_start}: not a vigie command"
        listed = subprocess.run([local, "--help"], capture_output=True, text=True, timeout=60).stdout
        assert re.search(rf"^  {re.escape(args[0])} ", listed, re.M), f"{args[0]} not in `vigie --help`"
        shown = subprocess.run([local, *args, "--help"], capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, shown.stderr
        if "@" in name:
            assert service["Environment"] == ["HOME=/var/lib/vigie", "VIGIE_WORKER_ID=%i"]
    else:
        assert Path(program).name == "gunicorn"
        options = subprocess.run([local, "--help"], capture_output=True, text=True, timeout=60).stdout
        for arg in args:
            if arg.startswith("--"):
                assert f"{arg} " in options or f"{arg}\n" in options, f"gunicorn has no option {arg}"
        conf = args[args.index("--config") + 1]  # the shipped gunicorn.conf.py (logging, workers, bind)
        assert conf.startswith("/opt/vigie/") and (REPO / conf.removeprefix("/opt/vigie/")).is_file(), conf
        module, _, attribute = args[-1].partition(":")
        assert (module, attribute) == ("dashboard.wsgi", "server")
        assert (REPO / (module.replace(".", "/") + ".py")).is_file()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed: strict parse only")
def test_systemd_analyze_verifies_the_units_without_a_warning(tmp_path: Path) -> None:
    venv = str(Path(VIGIE).parent)
    files = []
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace(VENV_BIN, venv)
        target = tmp_path / (name.replace("@.", "@a.") if "@." in name else name)  # an instance of the template
        target.write_text(text)
        files.append(str(target))
    checked = subprocess.run(["systemd-analyze", "verify", *files], capture_output=True, text=True, timeout=120)
    ours = [line for line in checked.stderr.splitlines() if str(tmp_path) in line]
    assert checked.returncode == 0 and ours == [], checked.stderr


def test_the_environment_file_example_names_only_known_settings() -> None:
    names = []
    for line in (DEPLOY / "vigie.env.example").read_text().splitlines():
        line = line.lstrip("#").strip() if re.match(r"#?[A-Z_]+=", line) else ""
        if line:
            names.append(line.split("=", 1)[0])
    vigie = [n for n in names if n.startswith("VIGIE_") or n == "DATABASE_URL"]
    assert vigie and all(n in ENV_VARS for n in vigie), [n for n in vigie if n not in ENV_VARS]
    assert set(names) - set(vigie) <= {"HTTPS_PROXY", "REQUESTS_CA_BUNDLE"}  # Apprise's own (see the file)
    assert {"DATABASE_URL", "VIGIE_SECRET_KEY", "VIGIE_PROXY_URL", "VIGIE_CA_BUNDLE"} <= set(names)


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@pytest.mark.skipif(NGINX is None, reason="nginx not installed (make chromium installs it)")
def test_nginx_accepts_the_site_config(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca.issue_cert("vigie.bank.example").private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "site.pem"))
    site = (DEPLOY / "nginx-vigie.conf").read_text()
    site = site.replace("/etc/ssl/vigie/fullchain.pem", str(tmp_path / "site.pem"))
    site = site.replace("/etc/ssl/vigie/privkey.pem", str(tmp_path / "site.pem"))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  include {tmp_path}/site.conf;\n}}\n")
    assert NGINX is not None
    checked = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "client_max_body_size 6m;" in site and "X-Forwarded-Proto $scheme" in site
