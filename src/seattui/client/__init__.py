"""The async client of the license portal: typed methods over httpx that return domain models.

Importing this package imports neither Textual nor FastAPI.
"""

from seattui.client.portal_client import PortalClient

__all__ = ["PortalClient"]
