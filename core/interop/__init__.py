"""Interoperability: read the event data analysts already have, write what their tools open.

Importers (``core.interop.gdelt``, ``core.interop.acled``, ``export.read_plover``) turn
GDELT 2.0 Events / Mentions / GKG 2.1 files, ACLED CSV exports and PLOVER JSON into
the same five frames ``build_dataset`` makes, so an imported store opens in the
dashboard like a built one. Exporters (``core.interop.export``) turn frames into
CSV, JSON, Parquet, PLOVER JSON Lines, GEXF, GraphML and followthemoney JSON.

What the importers share is in ``core.interop.common``; this package module imports
nothing, so that the command line (``core.interop.cli``) starts without the data
libraries.
"""
