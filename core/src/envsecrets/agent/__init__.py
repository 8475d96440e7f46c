"""``envsecrets agent``: a resident resolver, and the thin client that asks it.

:mod:`.protocol` frames the messages; :mod:`.paths` knows the socket;
:mod:`.client` is all a thin ``run`` imports (no pluggy, no provider);
:mod:`.peer` reads a connection's uid; :mod:`.service` answers a request
with every rule of an in-process ``run``; :mod:`.server` listens.
"""
