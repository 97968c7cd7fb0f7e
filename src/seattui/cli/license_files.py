"""The `seattui` commands of one area."""

from __future__ import annotations

import argparse
from typing import Any

from seattui.cli.common import (
    EXIT_OK, EXIT_USAGE, _fail, _on_portal, _read_text, _run, _with_portal, _write_text,
)


# -- license files: signing keys, files, offline activation, verification ----------------


def cmd_signing_key_rotate(args: argparse.Namespace) -> int:
    from seattui.portal.services import license_files

    async def work(portal: Any) -> int:
        async with portal.store.write() as conn:
            kid = await license_files.rotate(conn, portal.now())
        print(f"New signing key {kid}: license files are signed with it from now on. Files signed before stay "
              "valid until they expire; give the licensed software the new public keys (seattui signing-key public).")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def cmd_signing_key_public(args: argparse.Namespace) -> int:
    if args.db:
        from seattui.domain.license_file import keyring_text
        from seattui.portal.services import license_files

        async def work(portal: Any) -> int:
            async with portal.store.write() as conn:
                await license_files.ensure_signing_key(conn, portal.now())
                print(keyring_text(await license_files.public_keys(conn)), end="")
            return EXIT_OK

        return _run(_with_portal(args.db, work))

    async def fetch(client: Any) -> Any:
        return await client.signing_keys()

    published = _run(_on_portal(args, fetch, session=False))
    print(published.model_dump_json() if args.json else published.text, end="\n" if args.json else "")
    return EXIT_OK


def _chosen_license(held: list[Any], product_id: str, machine: str | None) -> Any:
    """The key's license of the product a file is for: the one on the machine, else a live
    permanent one before a trial or a seat plan, newest first."""
    from seattui.domain.licensing import LicenseStatus, Term

    found = [license for license in held if license.product_id == product_id]
    if machine is not None:
        on_machine = [license for license in found if license.device and license.device.fingerprint == machine]
        found = on_machine or found
    live = (LicenseStatus.ASSIGNED, LicenseStatus.ACTIVATED)
    return min(found, key=lambda license: (license.status not in live, license.term is not Term.PERMANENT,
                                           -license.id), default=None)


async def _customer_file(client: Any, key: str, args: argparse.Namespace) -> tuple[str, str]:
    from seattui.domain.licensing import LicenseFilter

    page = await client.licenses(LicenseFilter(q=key, product_id=args.product), limit=100)
    license = _chosen_license([item for item in page.items if item.key == key], args.product, args.machine)
    if license is None:
        _fail(f"None of your licenses is of {args.product} on {key}: `seattui licenses` lists them.")
    return await client.license_file(license.id, machine=args.machine), f"license {license.id}"


def cmd_license_file(args: argparse.Namespace) -> int:
    from seattui.domain.keys import InvalidActivationKey, parse_key

    try:
        key = parse_key(args.key)
    except InvalidActivationKey as error:
        _fail(str(error), EXIT_USAGE)

    async def work(client: Any) -> tuple[str, str]:
        from seattui.domain import errors

        try:
            found = await client.keys(query=key, limit=5)
        except errors.PermissionDenied:
            # A customer's own login lists no keys: the file is of one of their own licenses.
            return await _customer_file(client, key, args)
        match = next((item for item in found.items if item.key == key), None)
        if match is None:
            _fail(f"There is no activation key {key} in your organization.")
        detail = await client.key(match.id)
        license = _chosen_license(detail.licenses, args.product, args.machine)
        if license is not None:
            return await client.license_file(license.id, machine=args.machine), f"license {license.id}"
        subscription = next((s for s in detail.subscriptions if s.product_id == args.product), None)
        if subscription is None:
            products = sorted({item.product_id for item in [*detail.licenses, *detail.subscriptions]})
            _fail(f"The key {key} holds no license of {args.product}"
                  + (f" (it holds {', '.join(products)})." if products else "; it holds nothing yet."))
        if args.machine:
            _fail("A subscription's file is not bound to a machine; leave out --machine.", EXIT_USAGE)
        return await client.subscription_file(subscription.id), f"subscription {subscription.id}"

    text, what = _run(_on_portal(args, work))
    if args.output:
        _write_text(args.output, text, "license file")
        print(f"Wrote the file of {what} on {key} ({args.product}) to {args.output}.")
    else:
        print(text, end="")
    return EXIT_OK


def _offline(args: argparse.Namespace, deactivate: bool) -> int:
    request = _read_text(args.request, "request file")

    async def work(client: Any) -> Any:
        return await (client.offline_deactivate(request) if deactivate else client.offline_activate(request))

    answer = _run(_on_portal(args, work))
    _write_text(args.output, answer.file, "release receipt" if deactivate else "machine file")
    machine = f"{answer.hostname} ({answer.fingerprint})" if answer.hostname else answer.fingerprint
    if deactivate:
        print(f"Released license {answer.license_id} on {answer.key} ({answer.product_id}) from machine {machine}; "
              f"the signed release receipt is {args.output}.")
    else:
        print(f"Activated license {answer.license_id} on {answer.key} ({answer.product_id}) on machine {machine}; "
              f"its machine file is {args.output}: give it to that machine.")
    return EXIT_OK


def cmd_license_offline_activate(args: argparse.Namespace) -> int:
    return _offline(args, deactivate=False)


def cmd_license_offline_deactivate(args: argparse.Namespace) -> int:
    return _offline(args, deactivate=True)


def cmd_license_request(args: argparse.Namespace) -> int:
    from seattui.domain.license_file import DeviceFileRequest, device_request_text

    text = device_request_text(DeviceFileRequest(
        action="deactivate" if args.deactivate else "activate", key=args.key.upper(), product_id=args.product,
        fingerprint=args.fingerprint, hostname=args.hostname or ""))
    if args.output:
        _write_text(args.output, text, "request file")
        print(f"Wrote the request to {args.output}; the portal's administrator answers it with "
              f"seattui license offline-{'deactivate' if args.deactivate else 'activate'}.")
    else:
        print(text, end="")
    return EXIT_OK


def cmd_license_verify(args: argparse.Namespace) -> int:
    """0: the file is authentic and valid now (and current, with --online); 1: refused, saying
    why; 2: a file that cannot be read."""
    from datetime import UTC, datetime

    from seattui.domain.license_file import (
        LicenseFileRefused,
        describe,
        parse_keyring,
        read_license_file,
        verify_license_file,
    )

    text = _read_text(args.file, "license file")
    shown = "The license file on standard input" if args.file == "-" else args.file
    if args.public_key:
        try:
            keys = parse_keyring(_read_text(args.public_key, "public keys file"))
        except LicenseFileRefused as refused:
            _fail(f"{args.public_key}: {refused.message}", EXIT_USAGE)
    else:
        async def fetch(client: Any) -> Any:
            return await client.signing_keys()

        keys = parse_keyring(_run(_on_portal(args, fetch, session=False)).text)
    try:
        kind = read_license_file(text, keys).facts.kind
        facts = verify_license_file(text, keys, now=datetime.now(UTC), machine=args.machine,
                                    product_id=args.product, kind=kind)
    except LicenseFileRefused as refused:
        _fail(f"{shown} is not valid: {refused.message}")
    if args.online:
        async def check(client: Any) -> Any:
            return await client.check_license_file(text)

        verdict = _run(_on_portal(args, check, session=False))
        if verdict.verdict.value != "current":
            fetch = (f" Write the new one with: seattui license file {facts.key} --product {facts.product_id}"
                     + (f" --machine {facts.machine}" if facts.machine else "") + " -o FILE.") if verdict.file else ""
            _fail(f"{shown} verifies, but the portal says: {verdict.message}{fetch}")
    print(f"{shown}: valid, signed by the portal" + (" and current" if args.online else "") + ".")
    print(describe(facts))
    return EXIT_OK


def add_commands(commands: Any, db_help: str) -> None:
    signing = commands.add_parser(
        "signing-key", help="the portal's license-file signing keys",
        description="The Ed25519 keys that sign license files. The private keys never leave the portal.")
    signing_commands = signing.add_subparsers(title="commands", metavar="COMMAND", required=True)
    rotate = signing_commands.add_parser(
        "rotate", help="sign with a new key from now on (portal operator)",
        description="Add a new signing key, directly on the portal's database. Files signed with the old keys "
                    "stay valid until they expire.")
    rotate.add_argument("--db", help=db_help)
    rotate.set_defaults(handler=cmd_signing_key_rotate)
    public = signing_commands.add_parser(
        "public", help="print the public keys (for the licensed software)",
        description="Print the portal's public signing keys, current first, as the file that the licensed "
                    "software and `seattui license verify --public-key` read.")
    public.add_argument("--db", help=f"{db_help}; default: ask the profile's portal")
    public.add_argument("--json", action="store_true", help='print {"current", "keys", "text"}')
    public.set_defaults(handler=cmd_signing_key_public)

    license = commands.add_parser("license", help="license files and offline activation",
                                  description="Signed license files, offline activation, and verification.")
    license_commands = license.add_subparsers(title="commands", metavar="COMMAND", required=True)
    file = license_commands.add_parser(
        "file", help="write the signed file of a license (or subscription)",
        description="Write the signed file of the key's license of a product: valid 30 days (or to the license's "
                    "end); with --machine, a machine file for the machine that holds the activation.")
    file.add_argument("key", metavar="KEY", help="the activation key")
    file.add_argument("--product", required=True, metavar="ID", help="the product's id, like remotedesk")
    file.add_argument("-o", "--output", metavar="FILE", help="write it here (default: print it)")
    file.add_argument("--machine", metavar="FINGERPRINT", help="bind the file to this machine")
    file.set_defaults(handler=cmd_license_file)
    for action in ("activate", "deactivate"):
        offline = license_commands.add_parser(
            f"offline-{action}", help=f"{action} a machine that cannot reach the portal, from its request file",
            description=(f"{action.capitalize()} the machine of a request file exactly as an online "
                         f"{action[:-1]}ion would, and write "
                         + ("its machine file." if action == "activate" else "the signed release receipt.")))
        offline.add_argument("request", metavar="REQUEST",
                             help="the request file the licensed software wrote (- : standard input)")
        offline.add_argument("-o", "--output", required=True, metavar="RESPONSE",
                             help="where to write the " + ("machine file" if action == "activate" else "receipt"))
        offline.set_defaults(handler=cmd_license_offline_activate if action == "activate"
                             else cmd_license_offline_deactivate)
    request = license_commands.add_parser(
        "request", help="write a request file, as the licensed software does",
        description="Write an offline activation (or deactivation) request file for a machine.")
    request.add_argument("--key", required=True)
    request.add_argument("--product", required=True, metavar="ID")
    request.add_argument("--fingerprint", required=True)
    request.add_argument("--hostname")
    request.add_argument("--deactivate", action="store_true", help="ask for the machine's release instead")
    request.add_argument("-o", "--output", metavar="FILE", help="write it here (default: print it)")
    request.set_defaults(handler=cmd_license_request)
    verify = license_commands.add_parser(
        "verify", help="check a license file's signature, expiry and machine",
        description="Check a license file (or release receipt) and print its facts. Exit codes: 0 valid, "
                    "1 not valid (the reason is printed), 2 a file that cannot be read.")
    verify.add_argument("file", metavar="FILE", help="the license file (- : standard input)")
    verify.add_argument("--public-key", metavar="FILE",
                        help="the public keys (seattui signing-key public); default: ask the profile's portal")
    verify.add_argument("--machine", metavar="FINGERPRINT", help="refuse a machine file for another machine")
    verify.add_argument("--product", metavar="ID", help="refuse a file for another product")
    verify.add_argument("--online", action="store_true",
                        help="also ask the portal whether the file is current (not made stale by a change)")
    verify.set_defaults(handler=cmd_license_verify)
