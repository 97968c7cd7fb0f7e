"""Write a license's signed file (`w` on the licenses screens): asks where, and for a machine
file, which machine; the portal signs it, the app writes it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from seattui.domain.licensing import License
from seattui.domain.offline_licensing import OfflineAnswer
from seattui.tui.changes import LICENSE_EDIT
from seattui.tui.files import target_path
from seattui.tui.screens.form import FormScreen
from seattui.tui.screens.license_list import LicenseListScreen, LicenseText


def default_path(license: License) -> str:
    """In the folder seattui runs in, named after the key and the product."""
    return f"{license.key}-{license.product_id}.license"


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


async def write_signed_file(form: FormScreen, path: Path, text: str) -> bool:
    """Write a signed file where the form asked (off the event loop); says on the form why not."""
    try:
        await asyncio.to_thread(_write, path, text)
    except OSError as error:
        form.say(f"Cannot write {path}: {error.strerror or error}. Choose another path.")
        return False
    return True


class LicenseFileScreen(FormScreen):
    """Dismissed with the path written, or None."""

    TITLE_TEXT = "Write the license file"
    HINT = "ctrl+s: write · escape: cancel"

    def __init__(self, license: License, text: LicenseText) -> None:
        super().__init__()
        self.license, self.text = license, text

    def fields(self) -> ComposeResult:
        yield Static(f"{self.license.key} · {self.text.describe(self.license)}", classes="form-about")
        yield Label("Write to")
        yield Input(default_path(self.license), id="file-path")
        yield Label("Machine fingerprint (empty: any machine, valid 30 days)")
        device = self.license.device
        hint = f"its device's is {device.fingerprint}" if device else "only the machine holding the activation"
        yield Input(placeholder=hint, id="file-machine")

    def action_submit(self) -> None:
        path, problem = target_path(self.query_one("#file-path", Input).value, default_path(self.license))
        if path is None:
            self.say(f"Write to: {problem}")
            return
        self._write(path, self.query_one("#file-machine", Input).value.strip() or None)

    @work(exclusive=True, group="write")
    async def _write(self, path: Path, machine: str | None) -> None:
        license_id = self.license.id
        text = await self.call_portal(lambda client: client.license_file(license_id, machine=machine))
        if text is not None and await write_signed_file(self, path, text):
            self.dismiss(str(path))


class WritesLicenseFiles:
    """`w` on a list of licenses (the organization's, a customer's own): the file of the license
    under the cursor, written where the user says."""

    table: Any
    text: LicenseText
    app: Any
    notify: Any

    def license_words(self, license: License) -> str:
        """A license in the screen's messages."""
        return f"license {license.id}"

    def action_write_file(self) -> None:
        license = self.table.current
        if license is None:
            return

        def written(path: str | None) -> None:
            if path is not None:
                self.notify(f"Wrote the license file of {self.license_words(license)} to {path}.")

        self.app.push_screen(LicenseFileScreen(license, self.text), written)


class OfflineActivationScreen(FormScreen):
    """An offline activation from the licenses screen: the request file the licensed software
    wrote in, its machine file out. Dismissed with the answer, or None."""

    TITLE_TEXT = "Activate a machine offline"
    HINT = "ctrl+s: activate and write the machine file · escape: cancel"

    def fields(self) -> ComposeResult:
        yield Static("The machine counts as activated as it would online: one device per license.",
                     classes="form-about")
        yield Label("Request file (written by the licensed software)")
        yield Input(placeholder="request.txt", id="offline-request")
        yield Label("Write the machine file to")
        yield Input("machine.license", id="offline-response")

    def action_submit(self) -> None:
        request = Path(self.query_one("#offline-request", Input).value.strip()).expanduser()
        response = Path(self.query_one("#offline-response", Input).value.strip()).expanduser().absolute()
        if not request.is_file():
            self.say(f"Request file: there is no file {request}; type the path of the request file.")
            return
        if not response.parent.is_dir() or response.is_dir():
            self.say(f"Write the machine file to: {response} is not a file in a folder that exists.")
            return
        self._activate(request, response)

    @work(exclusive=True, group="write")
    async def _activate(self, request: Path, response: Path) -> None:
        try:
            text = await asyncio.to_thread(request.read_text, encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            self.say(f"Cannot read {request}: {getattr(error, 'strerror', None) or error}.")
            return
        answer = await self.call_portal(lambda client: client.offline_activate(text))
        if answer is None:
            return
        try:
            await asyncio.to_thread(_write, response, answer.file)
        except OSError as error:
            # Activated all the same; sending the request again answers the same machine file.
            self.say(f"Activated, but cannot write {response}: {error.strerror or error}. Choose another path "
                     "and press ctrl+s again.")
            return
        self.dismiss(answer)


class OfflineActivating(LicenseListScreen):
    """`A` on a list of licenses (the organization's, a customer's own): activate a machine that
    cannot reach the portal from its request file; the list then shows the license's device."""

    def action_offline_activate(self) -> None:
        def activated(answer: OfflineAnswer | None) -> None:
            if answer is not None:
                machine = answer.hostname or answer.fingerprint
                self.notify(f"License {answer.license_id} on {answer.key} is activated on {machine}; its machine "
                            "file is written.")
                self.seattui.announce_change(LICENSE_EDIT)  # the license now shows its device

        self.app.push_screen(OfflineActivationScreen(), activated)
