from __future__ import annotations

from fastapi import APIRouter

from seattui.domain.catalog import Catalog, Product
from seattui.domain.errors import NotFound
from seattui.portal.api import CurrentActor, PortalDep

router = APIRouter(tags=["catalog"])


@router.get("/catalog")
async def catalog(portal: PortalDep, _actor: CurrentActor) -> Catalog:
    return portal.catalog


@router.get("/catalog/products/{product_id}")
async def product(product_id: str, portal: PortalDep, _actor: CurrentActor) -> Product:
    found = portal.catalog.find(product_id)
    if found is None:
        raise NotFound(f"There is no product {product_id!r} in the catalog.", {"product_id": product_id})
    return found
