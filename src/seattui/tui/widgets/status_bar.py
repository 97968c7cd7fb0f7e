"""The top line: where you are (profile, portal), who you are (organization, role) and the balance."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from seattui.domain.money import format_credits


class StatusBar(Widget):
    """Redrawn from the app's session whenever it changes; never asks the portal itself."""

    def on_mount(self) -> None:
        self.watch(self.app, "session_info", self.refresh, init=False)
        self.watch(self.app, "balance", self.refresh, init=False)

    def _parts(self, with_portal: bool) -> list[tuple[str, str]]:
        app = self.app
        parts: list[tuple[str, str]] = [(" seattui ", "bold reverse")]
        profile = getattr(app, "profile_name", None)
        if profile:
            parts.append((f" {profile} ", "bold"))
        connector = getattr(app, "connector", None)
        if with_portal and connector is not None:
            parts.append((f"· {getattr(connector, 'url', None) or 'embedded'} ", "dim"))
        who = getattr(app, "who", None)
        if who is not None:
            parts.append((f"· {who.organization} ", ""))
            parts.append((f"· {who.login} ({who.role.value}) ", "dim"))
        return parts

    def render(self) -> Text:
        balance = getattr(self.app, "balance", None)
        figure = f" {format_credits(balance)} credits " if balance is not None else ""
        room = max(self.size.width - len(figure), 0)
        # The portal is the first thing to go when the line is short; the balance never goes.
        for with_portal in (True, False):
            text = Text(no_wrap=True, overflow="ellipsis")
            for chunk, style in self._parts(with_portal):
                text.append(chunk, style)
            if text.cell_len <= room:
                break
        text.truncate(room, overflow="ellipsis")
        text.pad_right(room - text.cell_len)
        text.append(figure, "bold")
        return text
