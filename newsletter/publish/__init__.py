"""Publishing: writing what the public and the sender need to disk.

In: a loaded edition and its rendered variants.
Out: ``build/<edition>/`` (the email variants, a manifest, archive pages and images).
"""
