"""`cdp serve`: the HTTP service (collection API now; profile API and customer page next).

`cdp.serve.app.create_app(ServeSettings.from_env())` builds the app. Nothing is
imported here, so that `cdp --help` and every other command do not pay for
FastAPI's import. See cdp/serve/README.md and docs/collect.md."""
