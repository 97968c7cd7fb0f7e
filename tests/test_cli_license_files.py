"""`seattui signing-key` and `seattui license` as an administrator runs them: keys made at init,
rotated and printed (never the private half), files written and verified offline with exit
codes that say what is wrong, and offline activation from a request file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cli_helpers import seattui

OWNER_PASSWORD = "owner password 123"


def demo_portal(database: Path) -> tuple[str, str]:
    """A demo portal, logged in as its profile "demo"; a permanent license on no device."""
    seeded = seattui("demo", "--seed-only", "--db", str(database))
    assert seeded.returncode == 0, seeded.stderr
    password = seeded.stdout.split("password: ")[1].split()[0]
    assert seattui("--profile", "demo", "login", "--password-stdin", stdin=password + "\n").returncode == 0
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT key, product_id FROM licenses WHERE device_fingerprint IS NULL AND term = 'permanent' "
            "ORDER BY id LIMIT 1").fetchone()


def test_every_license_file_command_has_help() -> None:
    for command in (("signing-key", "rotate"), ("signing-key", "public"), ("license", "file"),
                    ("license", "offline-activate"), ("license", "offline-deactivate"), ("license", "request"),
                    ("license", "verify")):
        done = seattui(*command, "--help")
        assert done.returncode == 0 and f"usage: seattui {' '.join(command)}" in done.stdout, command


def private_keys(database: Path) -> list[str]:
    with sqlite3.connect(database) as conn:
        return [row[0] for row in conn.execute("SELECT private_key FROM signing_keys")]


def test_init_makes_the_signing_key_and_rotation_adds_one_without_printing_a_private_key(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    init = seattui("init", "--db", str(database), "--org", "Initech", "--login", "peter", "--password-stdin",
                   stdin=OWNER_PASSWORD + "\n")
    assert init.returncode == 0, init.stderr
    public = seattui("signing-key", "public", "--db", str(database))
    first = public.stdout.splitlines()[1].split()[0]
    assert f"signed with key {first}" in init.stdout
    rotated = seattui("signing-key", "rotate", "--db", str(database))
    assert rotated.returncode == 0, rotated.stderr
    after = seattui("signing-key", "public", "--db", str(database)).stdout.splitlines()
    assert after[1].split()[0] in rotated.stdout and after[2].split()[0] == first and "retired=" in after[2]
    printed = init.stdout + public.stdout + rotated.stdout + "\n".join(after)
    assert len(private_keys(database)) == 2
    assert not any(secret in printed for secret in private_keys(database))


def test_a_license_file_is_written_verified_offline_and_refused_when_changed(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    key, product = demo_portal(database)
    with sqlite3.connect(database) as conn:
        (quantity,) = conn.execute("SELECT quantity FROM licenses WHERE key = ? AND product_id = ?",
                                   (key, product)).fetchone()
    demo = ("--profile", "demo")
    written = seattui(*demo, "license", "file", key.lower(), "--product", product, "-o", str(tmp_path / "a.license"))
    assert written.returncode == 0, written.stderr
    keys = tmp_path / "keys.txt"
    keys.write_text(seattui(*demo, "signing-key", "public").stdout)

    verified = seattui("license", "verify", str(tmp_path / "a.license"), "--public-key", str(keys))
    assert verified.returncode == 0, verified.stderr
    assert f"Key:           {key}" in verified.stdout and f"Quantity:      {quantity} " in verified.stdout
    piped = seattui("license", "verify", "-", "--public-key", str(keys), stdin=(tmp_path / "a.license").read_text())
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.startswith("The license file on standard input: valid, signed by the portal.\n")
    assert piped.stdout.splitlines()[1:] == verified.stdout.splitlines()[1:]

    text = (tmp_path / "a.license").read_text()
    (tmp_path / "b.license").write_text(text.replace(f"Quantity:      {quantity} ", "Quantity:      9999 "))
    changed = seattui("license", "verify", str(tmp_path / "b.license"), "--public-key", str(keys))
    assert changed.returncode == 1 and "Bad signature" in changed.stderr and "9999" in changed.stderr

    other = tmp_path / "other.db"
    seattui("init", "--db", str(other), "--org", "Other", "--login", "o", "--password-stdin", stdin=OWNER_PASSWORD + "\n")
    (tmp_path / "other-keys.txt").write_text(seattui("signing-key", "public", "--db", str(other)).stdout)
    unknown = seattui("license", "verify", str(tmp_path / "a.license"), "--public-key", str(tmp_path / "other-keys.txt"))
    assert unknown.returncode == 1 and "not among the portal's public keys" in unknown.stderr

    assert seattui("license", "verify", str(tmp_path / "missing.license")).returncode == 2
    assert seattui(*demo, "license", "file", "ABCD", "--product", product).returncode == 2


def test_offline_activation_from_a_request_file_gives_a_machine_file_for_that_machine_only(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    key, product = demo_portal(database)
    demo = ("--profile", "demo")
    request, answer = tmp_path / "request.txt", tmp_path / "machine.license"
    assert seattui("license", "request", "--key", key, "--product", product, "--fingerprint", "air-gap-0001",
                   "--hostname", "vault", "-o", str(request)).returncode == 0
    activated = seattui(*demo, "license", "offline-activate", str(request), "-o", str(answer))
    assert activated.returncode == 0, activated.stderr
    assert "on machine vault (air-gap-0001)" in activated.stdout
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT device_hostname FROM licenses WHERE key = ? AND product_id = ?",
                            (key, product)).fetchone() == ("vault",)
    here = seattui(*demo, "license", "verify", str(answer), "--machine", "air-gap-0001", "--online")
    assert here.returncode == 0 and "does not expire" in here.stdout
    elsewhere = seattui(*demo, "license", "verify", str(answer), "--machine", "other-machine-01")
    assert elsewhere.returncode == 1 and "for another machine (air-gap-0001)" in elsewhere.stderr

    release, receipt = tmp_path / "release.txt", tmp_path / "receipt.release"
    seattui("license", "request", "--key", key, "--product", product, "--fingerprint", "air-gap-0001",
            "--deactivate", "-o", str(release))
    released = seattui(*demo, "license", "offline-deactivate", str(release), "-o", str(receipt))
    assert released.returncode == 0, released.stderr
    assert "release receipt" in seattui(*demo, "license", "verify", str(receipt)).stdout
    stale = seattui(*demo, "license", "verify", str(answer), "--online")
    assert stale.returncode == 1 and "no longer activated on machine air-gap-0001" in stale.stderr
