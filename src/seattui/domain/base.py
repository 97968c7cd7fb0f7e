"""The base of every domain model."""

from pydantic import BaseModel, ConfigDict


class DomainModel(BaseModel):
    # Validators are built on first use, not at import: `seattui credits` and the app's
    # first frame only pay for the models they touch.
    model_config = ConfigDict(defer_build=True)
