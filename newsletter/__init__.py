"""newsletter: from a folder of text files to a delivered, segmented email campaign."""
__version__ = "0.1.0"
