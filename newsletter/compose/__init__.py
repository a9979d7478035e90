"""Composition: one rendered variant + one recipient -> the message's bytes.

In: ``render.variant.RenderedVariant`` (pre-rendered once per variant, with merge-field
placeholders) and a recipient (address, name, language, attributes).
Out: ``qp.MessageBytes`` - RFC 5322 bytes, quoted-printable, ready for any delivery adapter.
Pure: clock, Message-ID domain and base URLs are inputs.
"""
