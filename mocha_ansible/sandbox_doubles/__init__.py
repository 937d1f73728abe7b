"""TEST DOUBLES that the offline sandbox serves as local mirrors (product assets).

`scripts/sandbox` rehearses the whole tutorial without fetching from Julia's, Mocha's or
CIFAR-10's hosts: these stand in for what a real run fetches (Debian packages still come
from the machine's apt sources; docs/sandbox.md). None of it is Julia, Mocha or CIFAR-10, and every number it
produces is labelled as a test double's.

- julia_source_stand_in/: a git repository with Julia's tags whose Makefile builds a C "julia";
- julia_mocha_stand_in/: a stand-in `julia` for Mocha's calls, a stand-in Mocha tree and
  a CIFAR-10 in the real binary layout (few records);
- mirrors.py: builds the three mirrors and prints the provision flags that use them.
"""
