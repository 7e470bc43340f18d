"""The deployment files are linted here (no Docker engine in CI): the Dockerfile, the compose file,
the systemd unit and the nginx front agree with each other and with the code."""

from __future__ import annotations

import configparser
import json
import re
import shlex

import yaml

from bot.config import TelegramCfg, WebhookCfg
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def _dockerfile() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_dockerfile():
    steps = _dockerfile()
    kinds = [k for k, _ in steps]
    assert kinds[0] == "FROM" and re.match(r"python:3\.(1[1-9])", steps[0][1])
    assert set(kinds) <= {"FROM", "ENV", "WORKDIR", "COPY", "RUN", "USER", "EXPOSE", "HEALTHCHECK", "CMD"}
    for kind, arg in steps:
        if kind == "COPY":
            *sources, _dest = shlex.split(arg)
            for src in sources:
                assert (ROOT / src).exists(), f"COPY {src}: no such file"
    copied = {shlex.split(a)[0] for k, a in steps if k == "COPY"}
    for module in ("bot", "cases", "geo", "handlers", "storage", "scheduler.py"):
        assert module in copied, f"{module} is not in the image"
    assert dict(steps)["USER"] not in ("root", "0")
    cmd = json.loads(dict(steps)["CMD"])
    assert cmd[:3] == ["python", "-m", "bot"] and "--config" in cmd
    port = dict(steps)["EXPOSE"]
    assert port == str(WebhookCfg().port)
    assert f"127.0.0.1:{port}/healthz" in dict(steps)["HEALTHCHECK"]


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_file():
    compose = _compose()
    services = compose["services"]
    assert {"db", "bot1", "bot2"} <= set(services)
    assert services["db"]["image"].startswith("postgres:") and services["db"]["healthcheck"]["test"]
    # a replica's connections at its busiest: 20 + 20 reads, one chat lock per webhook connection, the
    # writer's 5 + 10; PostgreSQL's default of 100 would refuse the second replica's under load
    per_replica = 40 + WebhookCfg().max_connections + 15
    (setting,) = [a for a in services["db"]["command"] if a.startswith("max_connections=")]
    assert int(setting.split("=")[1]) >= 2 * per_replica
    exposed = dict(_dockerfile())["EXPOSE"]
    host_ports = []
    for name in ("bot1", "bot2"):
        bot = services[name]  # bot2 takes bot1's settings through a YAML merge key
        assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).resolve() == ROOT / "Dockerfile"
        assert bot["depends_on"]["db"]["condition"] == "service_healthy"
        assert {TelegramCfg().token_env, WebhookCfg().secret_token_env} <= set(bot["environment"])
        assert any(v.endswith(":/etc/frontline/config.yaml:ro") for v in bot["volumes"])
        (mapping,) = bot["ports"]
        host, port, container = mapping.split(":")
        assert host == "127.0.0.1" and container == exposed
        host_ports.append(port)
    assert len(set(host_ports)) == 2, "each replica on its own host port"
    assert set(re.findall(r"server 127\.0\.0\.1:(\d+)", (DEPLOY / "nginx.conf").read_text())) == set(host_ports)
    assert set(compose["volumes"]) >= {"pgdata", "media"}


def test_systemd_unit():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(DEPLOY / "frontline.service")
    service = unit["Service"]
    assert " -m bot --config " in service["ExecStart"] and service["Restart"] == "always"
    assert service["KillSignal"] == "SIGTERM" and service["User"] != "root"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_nginx_front():
    conf = (DEPLOY / "nginx.conf").read_text()
    code = re.sub(r"#.*", "", conf)
    assert code.count("{") == code.count("}")
    assert re.search(r"location = /telegram \{[^}]*proxy_pass http://frontline;", code)
    assert "ssl_certificate " in code and "listen 443 ssl" in code
    assert "/healthz" not in code and "/metrics" not in code, "monitoring stays off the public front"


def test_deploy_doc_names_every_file():
    doc = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    for name in ("Dockerfile", "deploy/compose.yaml", "deploy/frontline.service", "deploy/nginx.conf",
                 "pg_dump", "python -m bot backup", "pg_restore"):
        assert name in doc
