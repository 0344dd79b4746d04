"""Contracts of the catalog: what the API takes and returns, and what other domains get.

Prices are yuan ``Decimal`` at the edge (JSON strings such as ``"59.90"``) and integer fen inside.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CatalogStatus = Literal["active", "discontinued"]

# Two decimals (fen is the smallest unit) and below 100 million yuan, far above any list price.
Yuan = Annotated[Decimal, Field(ge=0, lt=100_000_000, decimal_places=2)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]

_STRIP = ConfigDict(str_strip_whitespace=True, extra="forbid")


class ProductIn(BaseModel):
    model_config = _STRIP

    name: str = Field(min_length=1, max_length=200)
    line: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=5000)
    status: CatalogStatus = "active"


class ProductUpdate(BaseModel):
    """A change to a product: only the fields sent change."""

    model_config = _STRIP

    name: str | None = Field(default=None, min_length=1, max_length=200)
    line: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=5000)
    status: CatalogStatus | None = None


class ProductOut(BaseModel):
    id: str
    name: str
    line: str
    description: str
    status: CatalogStatus
    sku_count: int = 0
    created_at: datetime
    updated_at: datetime


class SkuIn(BaseModel):
    """A new SKU of an existing product, given by id or by name.

    ``gtin`` takes GTIN-8/12/13/14 and is stored as 14 digits after its check digit is verified.
    """

    model_config = _STRIP

    product_id: str | None = None
    product_name: str | None = None
    sku_code: Code
    gtin: str | None = Field(default=None, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    specification: str = Field(default="", max_length=100)
    unit: str = Field(default="", max_length=20)
    list_price: Yuan
    status: CatalogStatus = "active"

    @model_validator(mode="after")
    def _one_product_reference(self) -> SkuIn:
        if bool(self.product_id) == bool(self.product_name):
            raise ValueError("give the product by product_id or by product_name (one of them)")
        return self


class SkuBulkIn(BaseModel):
    """A SKU for a bulk load (demo data, first loads): its product by name, created when new.

    The price is integer fen here, as bulk sources already hold it.
    """

    model_config = _STRIP

    product_name: str = Field(min_length=1, max_length=200)
    line: str = Field(default="", max_length=100)
    sku_code: Code
    gtin: str | None = Field(default=None, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    specification: str = Field(default="", max_length=100)
    unit: str = Field(default="", max_length=20)
    list_price_fen: int = Field(ge=0, lt=10_000_000_000)
    status: CatalogStatus = "active"


class SkuUpdate(BaseModel):
    """A change to a SKU: only the fields sent change (``gtin: null`` removes the barcode)."""

    model_config = _STRIP

    product_id: str | None = None
    product_name: str | None = None
    sku_code: Code | None = None
    gtin: str | None = Field(default=None, max_length=20)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    specification: str | None = Field(default=None, max_length=100)
    unit: str | None = Field(default=None, max_length=20)
    list_price: Yuan | None = None
    status: CatalogStatus | None = None


class SkuOut(BaseModel):
    id: str
    product_id: str
    product_name: str
    product_line: str
    sku_code: str
    gtin: str | None
    name: str
    specification: str
    unit: str
    list_price: Decimal
    list_price_fen: int
    status: CatalogStatus
    created_at: datetime
    updated_at: datetime
