"""The alternatives envsecrets is measured against, each a callable that
resolves one session's worth of variables and returns them.

- :mod:`.sequential`: the original agent's published algorithm.
- :mod:`.aws_caching`: AWS's official caching client (aws-secretsmanager-caching).
- :mod:`.vault_loader`: vault-env-loader, a Python Vault exec wrapper/loader.
"""
