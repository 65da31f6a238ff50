"""The HTTP edge: the ASGI app factory, plain-HTTP downloads, health, and the services they share.

With `spek/cli.py`, the only place allowed to import the API (`graphql_schema`) and the worker
(`jobs`); the domain core (everything else in `spek/`) imports neither, nor Starlette.
"""
