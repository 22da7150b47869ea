# django-db-connection-pool ships no type information. These stubs type the pool container that
# verisyntra/db/pools.py instruments; every other module of the library stays untyped (Any).
