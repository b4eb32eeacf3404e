"""``python -m harness report``: result files -> a static directory people would rather look at.

One module per concern: :mod:`.data` loads results (per bytecode condition),
one module per figure family (:mod:`.spawn`, :mod:`.ratios`, :mod:`.fanout`,
:mod:`.stream`, :mod:`.timeline`) each returns a :class:`.model.Section`,
:mod:`.environment` gathers the machine box, :mod:`.page` and
:mod:`.markdown` render the same sections as ``index.html`` and
``README.md``, and :mod:`.build` ties them together.  Kept import-free so
that loading results (and failing on bad ones) does not pay for matplotlib.
"""
