"""The customer page `/ui` for service and sales staff (docs/ui.md)."""

from cdp.serve.ui.routes import install, router

__all__ = ["install", "router"]
