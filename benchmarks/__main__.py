"""``python -m benchmarks``: run every scenario and write docs/performance.md."""

from benchmarks.run import main

if __name__ == "__main__":
    raise SystemExit(main())
