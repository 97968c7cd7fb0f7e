"""Pick a seat product: which seats to give (with how many are free) or to take back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from seattui.domain.seating import SeatPool
from seattui.tui import commands
from seattui.tui.styles import style


def choices(pools: Sequence[SeatPool], held: Sequence[Sequence[str]], *, take_back: bool) -> list[Option]:
    """One option per seat product: to give, those with licenses (and their free seats); to
    take back, those the employees hold."""
    names = {pool.product_id: pool.product_name for pool in pools}
    if take_back:
        holding = Counter(product for seats in held for product in seats)
        return [Option(Text.assemble((names.get(product, product), "bold"), f"  held by {count}"), id=product)
                for product, count in sorted(holding.items())]
    free = Counter({pool.product_id: 0 for pool in pools})
    for pool in pools:
        free[pool.product_id] += pool.free if pool.live else 0
    return [Option(Text.assemble((names[product], "bold"), f"  {count:,} seat(s) free"), id=product)
            for product, count in sorted(free.items())]


class SeatPickScreen(ModalScreen[str | None]):
    CSS_PATH = style("seat_pick.tcss")
    BINDINGS = commands.bindings("seat_pick")

    def __init__(self, title: str, options: list[Option]) -> None:
        super().__init__()
        self.title_text, self.options = title, options

    def compose(self) -> ComposeResult:
        with Vertical(id="seat-pick"):
            yield Static(self.title_text, id="seat-pick-title")
            yield OptionList(*self.options, id="seat-pick-products")
            yield Static("enter: choose · escape: cancel", id="seat-pick-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
