"""Exchange with translators: an edition's texts out to XLIFF or PO files, translations back in.

In: a loaded edition (``content``). Out: one XLIFF 1.2 or PO file per language
(``export``); ``import_file`` reads one back into ``issues/<edition>/translations/<lang>.yaml``
(see ``content.translations``), validated like ``newsletter check``, with errors pointing
into the XLIFF/PO file. Sign-off per language: ``approvals``.
"""
