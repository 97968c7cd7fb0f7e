"""A team's deployment, end to end: two `seattui serve` instances on one PostgreSQL database
behind a reverse proxy (Caddy, from Debian's packages, started here on loopback only). Logins,
balances and purchases go through the proxy to either instance; one instance stopping leaves
the team working through the other. And TLS from a CA of the company's own: refused with a
message that names SSL_CERT_FILE, trusted once it names the CA."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from seattui.client import PortalClient

from cli_helpers import free_port, seattui
from conftest import ON_CI, _drop_database, create_database, postgres_admin_url, run_apart

PASSWORD = "team password 123"
pytestmark = pytest.mark.slow


def caddy() -> str:
    found = shutil.which("caddy")
    if found is None:
        if ON_CI:
            pytest.fail("caddy is not installed, and CI must run the deployment test (.ci/run installs it).")
        pytest.skip("caddy is not installed (apt-get install caddy)")
    return found


@pytest.fixture
def team_database() -> Iterator[str]:
    admin = postgres_admin_url()
    name = f"seattui_team_{uuid.uuid4().hex[:10]}"

    yield run_apart(create_database(admin, name))
    run_apart(_drop_database(admin, name))


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_for(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 90
    while not answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what} did not start: {process.stderr.read().decode() if process.stderr else ''}")
        time.sleep(0.2)


@contextmanager
def started(command: list[str], ready_url: str, what: str, **options: object) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **options)  # type: ignore[call-overload]
    try:
        wait_for(ready_url, process, what)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def requests_served(metrics_url: str) -> float:
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        text = response.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "seattui_http_requests_total" and sample.labels["route"] == "/credits/balance")


@pytest.mark.postgres
def test_two_instances_behind_a_reverse_proxy(team_database: str, tmp_path: Path) -> None:
    caddy_binary = caddy()
    init = seattui("init", "--db", team_database, "--org", "Northwind IT", "--login", "alice",
                   "--credits", "500.00", "--password-stdin", stdin=PASSWORD + "\n")
    assert init.returncode == 0, init.stderr
    ports = [free_port(), free_port()]
    proxy_port = free_port()
    proxy = f"http://127.0.0.1:{proxy_port}"
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(
        "{\n\tadmin off\n\tauto_https off\n}\n"
        f"http://127.0.0.1:{proxy_port} {{\n\tbind 127.0.0.1\n"
        f"\treverse_proxy 127.0.0.1:{ports[0]} 127.0.0.1:{ports[1]} {{\n"
        "\t\tlb_policy round_robin\n\t\tlb_try_duration 10s\n"
        "\t\thealth_uri /api/v1/ready\n\t\thealth_interval 1s\n\t}\n}\n")
    caddy_env = dict(os.environ, HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"),
                     XDG_CONFIG_HOME=str(tmp_path / "config"))

    def instance(port: int) -> list[str]:
        return [sys.executable, "-m", "seattui", "serve", "--db", team_database, "--host", "127.0.0.1",
                "--port", str(port), "--log-level", "warning"]

    with started(instance(ports[0]), f"http://127.0.0.1:{ports[0]}/api/v1/ready", "the first instance") as first, \
            started(instance(ports[1]), f"http://127.0.0.1:{ports[1]}/api/v1/ready", "the second instance"), \
            started([caddy_binary, "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
                    f"{proxy}/api/v1/ready", "caddy", env=caddy_env):
        login = seattui("login", "--portal", proxy, "--login", "alice", "--password-stdin", stdin=PASSWORD + "\n")
        assert login.returncode == 0, login.stderr
        for _ in range(6):
            done = seattui("credits", "--json")
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout)["balance"] == "500.00"
        # Round robin: both instances answered the team's balance.
        served = [requests_served(f"http://127.0.0.1:{port}/metrics") for port in ports]
        assert all(count > 0 for count in served) and sum(served) == 6

        async def buy_keys_then_lose_an_instance() -> list[str]:
            client = PortalClient(proxy)
            async with client:
                await client.login("alice", PASSWORD)
                made = [(await client.create_key(f"reception {n}")).key for n in range(4)]
                first.terminate()
                first.wait(timeout=30)
                # The proxy passes over the stopped instance: every call still answers.
                listed = [(await client.keys()).items for _ in range(4)]
                assert all(sorted(key.key for key in page) == sorted(made) for page in listed)
                assert (await client.balance()).balance == 500
                return made

        made = run_apart(buy_keys_then_lose_an_instance())
        assert len(set(made)) == 4


def test_a_portal_behind_tls_from_a_company_ca_is_trusted_through_ssl_cert_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    caddy_binary = caddy()
    database = tmp_path / "portal.db"
    init = seattui("init", "--db", str(database), "--org", "Northwind IT", "--login", "alice",
                   "--password-stdin", stdin=PASSWORD + "\n")
    assert init.returncode == 0, init.stderr
    port, tls_port = free_port(), free_port()
    caddyfile = tmp_path / "Caddyfile"
    # Caddy's own local CA stands in for the company's; it is not installed anywhere.
    caddyfile.write_text(
        "{\n\tadmin off\n\tskip_install_trust\n\tlocal_certs\n\tauto_https disable_redirects\n}\n"
        f"https://127.0.0.1:{tls_port} {{\n\tbind 127.0.0.1\n\ttls internal\n"
        f"\treverse_proxy 127.0.0.1:{port}\n}}\n")
    data = tmp_path / "caddy-data"
    caddy_env = dict(os.environ, HOME=str(tmp_path), XDG_DATA_HOME=str(data), XDG_CONFIG_HOME=str(tmp_path / "config"))
    root = data / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    portal = f"https://127.0.0.1:{tls_port}"
    serve = [sys.executable, "-m", "seattui", "serve", "--db", str(database), "--port", str(port), "--log-level", "warning"]
    with started(serve, f"http://127.0.0.1:{port}/api/v1/ready", "the portal"), \
            started([caddy_binary, "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
                    f"http://127.0.0.1:{port}/api/v1/health", "caddy", env=caddy_env) as proxy:
        deadline = time.monotonic() + 60
        while not (root.exists() and answers_tls(f"{portal}/api/v1/ready", root)):
            assert proxy.poll() is None and time.monotonic() < deadline, "caddy did not serve TLS"
            time.sleep(0.2)
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        refused = seattui("login", "--portal", portal, "--login", "alice", "--password-stdin", stdin=PASSWORD + "\n")
        assert refused.returncode == 4  # the portal cannot be reached (README: exit codes)
        assert "is not trusted here" in refused.stderr and "SSL_CERT_FILE" in refused.stderr
        assert "Traceback" not in refused.stderr
        monkeypatch.setenv("SSL_CERT_FILE", str(root))
        login = seattui("login", "--portal", portal, "--login", "alice", "--password-stdin", stdin=PASSWORD + "\n")
        assert login.returncode == 0, login.stderr
        done = seattui("credits", "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["balance"] == "1000.00"


def answers_tls(url: str, ca_file: Path) -> bool:
    import ssl

    try:
        context = ssl.create_default_context(cafile=str(ca_file))
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return bool(response.status == 200)
    except (OSError, ssl.SSLError):
        return False
