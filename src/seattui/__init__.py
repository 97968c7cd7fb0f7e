"""seattui: software-license operations from the terminal, and the portal behind it."""

__version__ = "0.1.0"
