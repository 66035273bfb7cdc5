"""ocitest's self-tests apart from the product: mutants (deliberately broken runtimes and
CRI endpoints), the proxy and entry points that run them, and the proofs they yield.

Not shipped: the product (infra/, reports/, suites/) never imports this package; the
self-tests load `selftest.plugin` into their inner runs. See declare.py for how a mutant
is declared, registry.py for all of them, proofs.py for reports/proofs.json.
"""
