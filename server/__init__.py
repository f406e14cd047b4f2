"""carbonkg.server: the SPARQL service over the carbonkg store.

``create_app(Settings(...))`` (:mod:`.app`) builds the FastAPI application; ``carbonkg serve`` runs
it with uvicorn and ``carbonkg query`` runs one query from the command line (:mod:`.commands`).

One module per concern:

================================  ===============================================================
:mod:`.settings`                  ``Settings`` (``CARBONKG_*``), public base <-> local paths
:mod:`.app`                       ``create_app``, lifespan, CORS, router assembly (extension point)
:mod:`.runtime`                   store handle (read-only unless updates), workers, freshness
:mod:`.sparql`                    SPARQL 1.1 Protocol, query (``/sparql``)
:mod:`.update`                    SPARQL 1.1 Protocol, update (``/update``; off unless enabled)
:mod:`.graph_store`               Graph Store HTTP Protocol (``/graph``, ``/graph/<path>``)
:mod:`.service_description`       SPARQL Service Description (``GET /sparql`` without a query)
:mod:`.health`                    ``/health``
:mod:`.conneg`                    formats and content negotiation
:mod:`.problems`                  RFC 9457 problem details for every error
:mod:`.inputs`                    request bodies, media types, size limit, bearer token
:mod:`.safety`                    SPARQL tokeniser: form, FROM, SERVICE/LOAD and the allow-list
:mod:`.update_plan`               what an update writes; confinement to user graphs; rewriting
:mod:`.dataset`                   live, user and protected graphs; the dataset of a query
:mod:`.workers`                   query worker processes (killed at the time limit)
:mod:`.execute`                   running a query and serialising its answer (in a worker)
:mod:`.responses`                 streaming answers, result-limit headers
:mod:`.static_graphs`             ontology and vocabularies loaded at startup when changed
:mod:`.benchmark`                 ``python -m carbonkg.server.benchmark``: cost of the time limit
================================  ===============================================================
"""
