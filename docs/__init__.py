"""Project documentation; ``python -m docs.make_tables`` regenerates the tables in docs/odd.md."""
