"""bcone: marketing digitalization for brands that sell through distributors and stores (F2B2C)."""

__version__ = "0.1.0"
