"""The availability service: a read-only JSON API over the engine, the linter and the data.

    from validator.serve import Holder, SourceSpec, create_app
    app = create_app(Holder(SourceSpec(org="https://contoso.crm.dynamics.com")))

``create_app`` returns an ASGI application (Starlette); ``msgavail serve`` runs it on uvicorn
(validator/serve/server.py). Needs the ``msgavail[serve]`` extra.
"""

from validator.serve.app import ServeSettings, create_app
from validator.serve.state import DataState, Holder, SourceSpec

__all__ = ["DataState", "Holder", "ServeSettings", "SourceSpec", "create_app"]
