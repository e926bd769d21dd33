"""Use-cases as plain functions: (session, args) -> result; no flask.request here."""
