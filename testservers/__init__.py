"""Loopback servers for the tests, the benchmarks and the demo.

Not a distribution: it is imported with the repository root on ``sys.path``
(pytest's ``pythonpath = ["."]``, ``python -m benchmarks``, ``python -m
demo.full_stack``). One module per job:

- :mod:`testservers.openbao`: an OpenBao dev server (``-dev-tls``, KV mounts,
  AppRole, namespaces), ``bao proxy``, and the Vault environments.
- :mod:`testservers.moto`: a moto server and a seeding client.
- :mod:`testservers.certs`: a test CA and certificates (``openssl``).
- :mod:`testservers.proxy`: one loopback HTTP proxy/stub engine that counts
  requests, injects the faults of :mod:`testservers.faults`, and adds latency;
  :mod:`testservers.stubs` configures it as a redirecting, trickling or
  forward-proxy server.
- :mod:`testservers.wire`: the HTTP/1.1 message reading and writing it uses.
- :mod:`testservers.ports`: free loopback ports.
"""
