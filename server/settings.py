"""The service's configuration: one :class:`Settings` object, read from ``CARBONKG_*`` environment
variables (or built in code), passed to :func:`carbonkg.server.app.create_app` and never read from
globals.

List settings accept JSON (``["a", "b"]``) or a comma-separated string (``a,b``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from carbonkg.iris import BASE


def _default_store_path() -> Path:
    # the same default as `carbonkg load`: $CARBONKG_STORE or var/store
    from carbonkg.loaders.pipeline import default_store_path

    return default_store_path()


class Settings(BaseSettings):
    """Configuration of the SPARQL service (environment prefix ``CARBONKG_``)."""

    model_config = SettingsConfigDict(env_prefix="CARBONKG_", extra="ignore")

    store_path: Path = Field(default_factory=_default_store_path, description="folder of the embedded store")
    store_url: str | None = Field(
        None,
        description="a remote SPARQL engine to serve instead of the embedded store "
        "(oxigraph+http://host:port, virtuoso+http://user:password@host:port); queries only",
    )
    base_iri: str = Field(
        BASE,
        description="public base the service is published under; the local server's root maps to it "
        "(e.g. /graph/ontology <-> <base>graph/ontology)",
    )
    host: str = Field("127.0.0.1", description="interface `carbonkg serve` binds")
    port: int = Field(8000, ge=0, le=65535)
    query_timeout_s: float = Field(30.0, gt=0, description="wall-clock limit of one query; the worker is killed after it")
    max_results: int = Field(10_000, ge=1, description="most solutions or triples one answer carries")
    max_request_bytes: int = Field(1_048_576, ge=1024, description="largest request body (query, update, RDF upload)")
    allow_service: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="IRIs that SERVICE and LOAD may contact (exact, or a prefix ending with *); empty: none",
    )
    allow_update: bool = Field(False, description="accept SPARQL Update and Graph Store writes (with update_token)")
    update_token: SecretStr | None = Field(None, description="bearer token required for updates")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="origins allowed to read cross-origin ('*' for any); empty: no CORS"
    )
    query_workers: int = Field(
        2, ge=0, description="worker processes that run queries (0: run in the server process, without hard timeouts)"
    )
    load_static_graphs: bool = Field(True, description="load the ontology and vocabularies into the store on startup")
    access_log: bool = Field(
        False,
        description="`carbonkg serve` logs a line per request (off by default: ~0.07 ms CPU per request; "
        "the Prometheus metrics at /metrics count requests)",
    )

    @field_validator("allow_service", "cors_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("base_iri")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"base_iri must be an http(s) IRI, not {value!r}")
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _token_with_updates(self) -> Settings:
        if self.allow_update and (self.update_token is None or not self.update_token.get_secret_value()):
            raise ValueError("allow_update needs an update_token (CARBONKG_UPDATE_TOKEN): updates are never open")
        if self.allow_update and self.store_url:
            raise ValueError(
                "allow_update is for the embedded store; on a remote engine (store_url), write through the "
                "engine's own update and Graph Store endpoints"
            )
        return self

    @field_validator("store_url")
    @classmethod
    def _remote(cls, value: str | None) -> str | None:
        from carbonkg.store import is_remote

        if value and not is_remote(value):
            raise ValueError(f"store_url must be a URL (oxigraph+http://…, virtuoso+http://…), not {value!r}")
        return value or None

    # -- the public base and the local server --------------------------------------------------

    @property
    def sparql_endpoint(self) -> str:
        """Public IRI of the query endpoint (also the base IRI of queries)."""
        return self.base_iri + "sparql"

    @property
    def update_endpoint(self) -> str:
        return self.base_iri + "update"

    @property
    def graph_store(self) -> str:
        """Public IRI of the Graph Store; ``<graph store>/<path>`` names graphs directly."""
        return self.base_iri + "graph"

    def public_iri(self, local_path: str) -> str:
        """The public IRI of a path of the local server (``/graph/x`` -> ``<base>graph/x``)."""
        return self.base_iri + local_path.lstrip("/")

    def local_path(self, iri: str) -> str | None:
        """The local server path of a public IRI, or None when the IRI is not under the base."""
        if iri.startswith(self.base_iri):
            return "/" + iri[len(self.base_iri):]
        return None
