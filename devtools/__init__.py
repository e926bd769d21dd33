"""Development and test machinery that does not ship with the app: the demo shop's seed data,
a private PostgreSQL server for the tests, the benchmarks and `make run-postgres`."""
