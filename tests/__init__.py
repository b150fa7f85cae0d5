"""The test suite, a package so that ``from tests.helpers import ...`` finds these files.

As a regular package it cannot be shadowed by another ``tests`` on ``sys.path``, and pytest
puts the checkout's root on ``sys.path`` (``confaug`` then imports from it, too).
"""
